"""The GraphQL documents the connector sends, each with the cost it is expected to have
before Shopify says (``tests/test_shopify_connector.py`` validates every one against the
2025-01 schema and checks the estimate against the sandbox's calculation)."""

from __future__ import annotations

CUSTOMER_FIELDS = "id displayName firstName lastName email phone"

# Two candidates where a unique match matters: the second one shows ambiguity.
SEARCH_CUSTOMERS = f"""
query SearchCustomers($query: String!, $first: Int!) {{
  customers(first: $first, query: $query) {{ nodes {{ {CUSTOMER_FIELDS} }} }}
}}"""
SEARCH_CUSTOMERS_COST = 12

ORDERS_BY_NUMBER = f"""
query OrdersByNumber($query: String!) {{
  orders(first: 5, query: $query) {{ nodes {{ id name email customer {{ {CUSTOMER_FIELDS} }} }} }}
}}"""
ORDERS_BY_NUMBER_COST = 12

# What an agent is shown: the amount in the currency the customer paid in (the presentment currency;
# the shop's own for most orders).
MONEY = "presentmentMoney { amount currencyCode }"
# Both sides of a MoneyBag: an order paid in another currency than the shop's is refunded in it.
BOTH_MONEYS = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"

FETCH_CUSTOMER = """
query FetchCustomer($id: ID!) {
  customer(id: $id) {
    id displayName firstName lastName email phone note tags createdAt numberOfOrders
    amountSpent { amount currencyCode }
    defaultAddress { address1 address2 city provinceCode zip countryCodeV2 company phone }
  }
}"""
FETCH_CUSTOMER_COST = 3

# The 10 most recent orders, each with what an agent needs; about 822 points asked, what
# the customer really has charged (Shopify refunds the rest).
RECENT_ORDERS = f"""
query RecentOrders($query: String!, $first: Int!) {{
  orders(first: $first, query: $query, sortKey: PROCESSED_AT, reverse: true) {{
    pageInfo {{ hasNextPage }}
    nodes {{
      id name createdAt processedAt cancelledAt closed displayFinancialStatus displayFulfillmentStatus
      totalPriceSet {{ {MONEY} }}
      totalDiscountsSet {{ {MONEY} }}
      lineItems(first: 10) {{
        pageInfo {{ hasNextPage }}
        nodes {{ id name sku quantity refundableQuantity originalUnitPriceSet {{ {MONEY} }} product {{ onlineStoreUrl }} }}
      }}
      fulfillments(first: 3) {{ id name status displayStatus createdAt deliveredAt trackingInfo(first: 3) {{ number url company }} }}
      returns(first: 2) {{
        nodes {{
          id name status totalQuantity
          returnLineItems(first: 3) {{
            nodes {{ quantity returnReason ... on ReturnLineItem {{ fulfillmentLineItem {{ lineItem {{ name sku }} }} }} }}
          }}
        }}
      }}
      refunds(first: 3) {{ id createdAt totalRefundedSet {{ {MONEY} }} }}
    }}
  }}
}}"""
RECENT_ORDERS_COST = 822

ORDER_FOR_ACTION = f"""
query OrderForAction($id: ID!) {{
  order(id: $id) {{
    id name cancelledAt displayFinancialStatus displayFulfillmentStatus currencyCode presentmentCurrencyCode
    customer {{ id }}
    totalPriceSet {{ {MONEY} }}
    lineItems(first: 50) {{ nodes {{ id name refundableQuantity }} }}
  }}
}}"""
ORDER_FOR_ACTION_COST = 105

SUGGESTED_REFUND = f"""
query SuggestedRefund($id: ID!, $lines: [RefundLineItemInput!], $full: Boolean) {{
  order(id: $id) {{
    id
    suggestedRefund(refundLineItems: $lines, suggestFullRefund: $full) {{
      amountSet {{ {BOTH_MONEYS} }}
      suggestedTransactions {{ amountSet {{ {BOTH_MONEYS} }} gateway kind parentTransaction {{ id }} }}
      refundLineItems {{ lineItem {{ id }} quantity }}
    }}
  }}
}}"""
SUGGESTED_REFUND_COST = 10

REFUND_CREATE = f"""
mutation RefundCreate($input: RefundInput!) {{
  refundCreate(input: $input) {{
    refund {{ id totalRefundedSet {{ {BOTH_MONEYS} }} }}
    userErrors {{ field message }}
  }}
}}"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $refund: Boolean!, $restock: Boolean!, $reason: OrderCancelReason!, $notify: Boolean, $note: String) {
  orderCancel(orderId: $orderId, refund: $refund, restock: $restock, reason: $reason, notifyCustomer: $notify, staffNote: $note) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""

DISCOUNT_CODE_CREATE = """
mutation DiscountCodeCreate($discount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $discount) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { title summary codes(first: 1) { nodes { code } } } } }
    userErrors { field message code }
  }
}"""
MUTATION_COST = 10

# Reading back what an action did (ResolveAction): the order's refunds with their lines and
# whether it is cancelled; a discount by its code.
ORDER_REFUNDS = f"""
query OrderRefunds($id: ID!) {{
  order(id: $id) {{
    id name cancelledAt customer {{ id }}
    refunds(first: 10) {{
      id createdAt totalRefundedSet {{ {BOTH_MONEYS} }}
      refundLineItems(first: 10) {{ nodes {{ quantity lineItem {{ id }} }} }}
    }}
  }}
}}"""
ORDER_REFUNDS_COST = 252

DISCOUNT_BY_CODE = """
query DiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}"""
DISCOUNT_BY_CODE_COST = 1

SHOP_INFO = "query ShopInfo { shop { name myshopifyDomain currencyCode } }"
SHOP_INFO_COST = 1

# Webhooks: the app's subscriptions to one address, made and removed one topic at a time.
WEBHOOKS = """
query Webhooks($url: URL!) {
  webhookSubscriptions(first: 50, callbackUrl: $url) {
    nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
  }
}"""
WEBHOOKS_COST = 52

WEBHOOK_CREATE = """
mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $url: URL!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: { callbackUrl: $url, format: JSON }) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}"""

WEBHOOK_DELETE = """
mutation WebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}"""

# What changed since the reconciliation sweep last read (issue 34): orders by when they were last
# updated, oldest first, each with whose it is; a page of 100.
ORDERS_CHANGED = """
query OrdersChanged($query: String!, $after: String) {
  orders(first: 100, after: $after, sortKey: UPDATED_AT, query: $query) {
    nodes { legacyResourceId updatedAt customer { legacyResourceId } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ORDERS_CHANGED_COST = 202

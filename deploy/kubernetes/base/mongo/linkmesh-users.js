// linkmesh's database users: one per service, each with a role that grants only the
// collections that service uses (linkmesh_devstack.database_users says who and why).
// Run by mongosh as MongoDB's root user: by compose's mongo container on its first start
// (/docker-entrypoint-initdb.d), by the Kubernetes replica set's first member once the set is up
// (start.sh). Idempotent: run again, it updates the roles and sets every password again, so it
// is also how passwords are rotated. Each password comes from LINKMESH_DB_PASSWORD_<USER>.
// >>> generated: database-users (make deploy-files, from each connector's declaration)
const DATABASE = "linkmesh";
const ROLES = {
  "linkmeshProfile": [
    ["customers", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["customer_aliases", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["apps", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["meta", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["actions", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes", "collMod"]],
    ["autolink_queue", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["refresh_leases", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["inbox", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["lookup_traces", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes", "collMod"]],
    ["api_keys", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["adaptor_signatures", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
    ["audit", ["find", "insert", "createCollection", "createIndex", "listIndexes", "update", "dropIndex", "collMod"]],
  ],
  "linkmeshConnector": [
    ["vendor_budgets", ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]],
  ],
};
const USERS = {
  "profile": "linkmeshProfile",
  "connector-bigcommerce": "linkmeshConnector",
  "connector-magento": "linkmeshConnector",
  "connector-returnlogic": "linkmeshConnector",
  "connector-lookup-adaptor": "linkmeshConnector",
  "connector-shopify": "linkmeshConnector",
};
// <<< generated: database-users

function passwordOf(user) {
  const variable = "LINKMESH_DB_PASSWORD_" + user.toUpperCase().replace(/-/g, "_");
  const value = process.env[variable];
  if (!value) {
    throw new Error(`${variable} is not set: it is the password of the database user ${user}`);
  }
  return value;
}

const linkmesh = db.getSiblingDB(DATABASE);
for (const [role, grants] of Object.entries(ROLES)) {
  const privileges = grants.map(([collection, actions]) => ({ resource: { db: DATABASE, collection }, actions }));
  if (linkmesh.getRole(role)) {
    linkmesh.updateRole(role, { privileges, roles: [] });
  } else {
    linkmesh.createRole({ role, privileges, roles: [] });
  }
  print(`role ${role}: ${grants.map(([collection]) => collection).join(", ")}`);
}
for (const [user, role] of Object.entries(USERS)) {
  const spec = { pwd: passwordOf(user), roles: [{ role, db: DATABASE }] };
  if (linkmesh.getUser(user)) {
    linkmesh.updateUser(user, spec);
  } else {
    linkmesh.createUser({ user, ...spec });
  }
  print(`user ${user}: ${role}`);
}

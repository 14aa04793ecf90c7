// The replica set's first member, over localhost, once mongod answers: initiates the set when it
// is not yet (MongoDB's localhost exception allows it before any user exists), waits to be
// primary, creates the root user the first time (MONGO_ROOT_PASSWORD), then as root runs
// linkmesh-users.js. Safe to run on every start.
const members = parseInt(process.env.MONGO_MEMBERS || "3", 10);
const rootPassword = process.env.MONGO_ROOT_PASSWORD;
if (!rootPassword) {
  throw new Error("MONGO_ROOT_PASSWORD is not set");
}

function attempt(call) {
  try {
    return call();
  } catch (error) {
    return error;
  }
}

const status = attempt(() => rs.status());
if (status instanceof Error && status.codeName === "NotYetInitialized") {
  const hosts = [...Array(members).keys()].map((i) => ({ _id: i, host: `mongo-${i}.mongo:27017` }));
  rs.initiate({ _id: "rs0", members: hosts });
  print(`replica set rs0 initiated with ${members} members`);
} else if (status instanceof Error && status.codeName !== "Unauthorized") {
  throw status; // Unauthorized: users exist, so the set was initiated on an earlier start
}
while (!db.hello().isWritablePrimary) {
  sleep(1000);
}
const admin = db.getSiblingDB("admin");
const created = attempt(() => admin.createUser({ user: "root", pwd: rootPassword, roles: ["root"] }));
print(created instanceof Error ? "root user exists" : "root user created");
admin.auth("root", rootPassword);
load("/scripts/linkmesh-users.js");

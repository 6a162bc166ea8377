// Drives the legacy `raven` (node, v2), unmodified. argv: <dsn> <recorder url>.
const Raven = require("raven");
const [dsn, recorder] = process.argv.slice(2);

const send = (fn) => new Promise((resolve) => fn(() => resolve()));

async function main() {
  Raven.config(dsn, { release: "corpus@1.0.0", environment: "corpus", autoBreadcrumbs: false }).install();
  await fetch(`${recorder}/__step/exception`);
  await send((done) => Raven.captureException(new TypeError("corpus exception from raven"), done));
  await fetch(`${recorder}/__step/message`);
  await send((done) => Raven.captureMessage("corpus message from raven", { level: "warning" }, done));
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });

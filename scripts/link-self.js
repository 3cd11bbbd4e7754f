// Makes `require("pulumi-appsigning/...")` resolve inside this repository as it does in a user's
// install. Dynamic providers are serialized by Pulumi and run in a separate process; their methods
// load the implementation by package name (see provider/resources/lazy-provider.ts), so the examples
// and the end-to-end tests need the package reachable under node_modules. `npm install <pkg>` prunes
// the link, so the test harness and the scripts call this again.
const fs = require("fs");
const path = require("path");

function linkSelf() {
  const root = path.resolve(__dirname, "..");
  const link = path.join(root, "node_modules", "pulumi-appsigning");
  try {
    if (fs.realpathSync(link) === root) return;
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    /* absent */
  }
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync("..", link, "dir");
}

linkSelf();
module.exports = { linkSelf };

/**
 * `npm run bench -- --cpu-prof DIR`: loaded with `node --require` into fleet up's node processes
 * (NODE_OPTIONS may not carry --cpu-prof), it profiles Pulumi's program and dynamic-provider
 * processes and writes DIR/fleet-<N>/<kind>-<pid>.cpuprofile when they exit (open them in Chrome
 * DevTools or VS Code). Other node processes are left alone.
 */
import * as fs from "fs";
import * as inspector from "inspector";
import * as path from "path";

const dir = process.env.BENCH_PROF_DIR;
const argv = process.argv.join(" ");
const kind = /cmd[/\\]dynamic-provider/.test(argv) ? "provider" : /cmd[/\\]run/.test(argv) ? "program" : undefined;

if (dir && kind) {
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 1000 });
  session.post("Profiler.start");
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // The in-process inspector answers synchronously, so this completes inside an exit handler.
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${kind}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on("exit", write);
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(signal, () => {
      write();
      process.exit(0);
    });
  }
}

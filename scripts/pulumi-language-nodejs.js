#!/usr/bin/env node
"use strict";
// A Node.js language host for the Pulumi CLI: a stand-in for the Go binary `pulumi-language-nodejs`, which cannot be
// built here (its Go module, github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, has no tags and the
// Go module proxy refuses its pseudo-versions). scripts/pulumi-cli.sh installs it beside the `pulumi` binary with a
// small `pulumi-language-nodejs` shell wrapper, so `pulumi up/preview/refresh/destroy` work in a `runtime: nodejs`
// project folder.
//
// It serves the LanguageRuntime gRPC service with the generated stubs shipped in @pulumi/pulumi (proto/) and
// @grpc/grpc-js, and follows the Go host of the same release (sdk/nodejs/cmd/pulumi-language-nodejs/main.go):
//   - startup: `pulumi-language-nodejs [-tracing URL] [-runtime nodejs] [-version] <engine address>`; prints the
//     port it listens on as the only line on stdout, and exits when the engine goes away.
//   - Run: spawns `node [nodeargs] <@pulumi/pulumi/cmd/run> --monitor … --engine … --organization … --project …
//     --root-directory … --stack … --pwd <program dir> [--dry-run] --parallel N [--tracing …] <entry point> [args]`
//     with PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS, PULUMI_NODEJS_TYPESCRIPT, PULUMI_NODEJS_TSCONFIG_PATH set, the
//     program's stdout/stderr passed through, and the exit code mapped as the Go host does (32 = "bail").
//     Unlike the Go host it hands the engine's monitor address to the program directly instead of through an
//     in-process proxy: the proxy exists for the file-based synchronous invoke channel (`--sync`), which
//     @pulumi/pulumi 3.x no longer uses.
//   - GetRequiredPackages/GetRequiredPlugins: package.json files with `"pulumi": {"resource": true}` under
//     node_modules folders below the program directory. Handshake, GetPluginInfo, InstallDependencies (npm, yarn,
//     pnpm or bun), GetProgramDependencies, About, RuntimeOptionsPrompts, Template and Cancel are implemented.
//   - Not implemented (UNIMPLEMENTED): RunPlugin (Node.js component providers / policy packs run as plugins),
//     GenerateProgram/GenerateProject/GeneratePackage (`pulumi convert`, `pulumi package gen-sdk`), Pack, Link, and
//     the `attachDebugger` option of Run.
//
// Modules are resolved the way the Go host resolves `@pulumi/pulumi/cmd/run`: from the working directory the CLI
// starts the host in (the project folder), then from this file's folder, then from the folders listed in
// PULUMI_LANGUAGE_NODEJS_SDK_PATHS (set by the wrapper that scripts/pulumi-cli.sh writes).

const childProcess = require("child_process");
const fs = require("fs");
const path = require("path");

const NODEJS_BAILED = 32; // @pulumi/pulumi/cmd/run: "an actionable message was already shown"
// Same period as the Go host (rpcutil.Healthcheck); PULUMI_LANGUAGE_NODEJS_HEALTHCHECK_MS overrides it (tests).
const HEALTHCHECK_INTERVAL_MS = Number(process.env.PULUMI_LANGUAGE_NODEJS_HEALTHCHECK_MS) || 5 * 60 * 1000;

// ---------------------------------------------------------------------------------------------------------------
// Command line (Go `flag` syntax: -name value, -name=value, --name=value; the last positional is the engine address)

function parseArgs(argv) {
    const flags = { tracing: "", runtime: "nodejs", version: false };
    const positional = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--") {
            positional.push(...argv.slice(i + 1));
            break;
        }
        const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/.exec(a);
        if (!m) {
            positional.push(a);
            continue;
        }
        const name = m[1];
        if (name === "version") {
            flags.version = m[2] === undefined ? true : m[2] !== "false";
        } else if (name === "tracing" || name === "runtime" || name === "root" || name === "tsconfig" ||
            name === "nodeargs" || name === "typescript") {
            // -root/-tsconfig/-nodeargs/-typescript were passed by CLIs before 3.100; runtime options now arrive in
            // ProgramInfo.options, so these are accepted and ignored.
            let value = m[2];
            if (value === undefined && name !== "typescript") {
                value = argv[++i] ?? "";
            }
            flags[name] = value;
        } else {
            positional.push(a);
        }
    }
    return { flags, positional };
}

// ---------------------------------------------------------------------------------------------------------------
// Loading @pulumi/pulumi (protos) and the @grpc/grpc-js it uses.

function sdkSearchPaths() {
    const paths = [process.cwd(), __dirname];
    for (const p of (process.env.PULUMI_LANGUAGE_NODEJS_SDK_PATHS || "").split(path.delimiter)) {
        if (p) {
            paths.push(p);
        }
    }
    return paths;
}

function loadSdk() {
    let pkgJson;
    for (const p of sdkSearchPaths()) {
        try {
            pkgJson = require.resolve("@pulumi/pulumi/package.json", { paths: [p] });
            break;
        } catch {
            // try the next folder
        }
    }
    if (!pkgJson) {
        throw new Error(
            "pulumi-language-nodejs: cannot find @pulumi/pulumi from " + sdkSearchPaths().join(", ") +
            ". Have you run npm install?");
    }
    const sdkDir = path.dirname(pkgJson);
    const fromSdk = (m) => require(require.resolve(m, { paths: [path.join(sdkDir, "proto")] }));
    return {
        sdkDir,
        version: require(pkgJson).version,
        grpc: fromSdk("@grpc/grpc-js"),
        empty: fromSdk("google-protobuf/google/protobuf/empty_pb.js"),
        services: require(path.join(sdkDir, "proto", "language_grpc_pb.js")),
        lang: require(path.join(sdkDir, "proto", "language_pb.js")),
        plugin: require(path.join(sdkDir, "proto", "plugin_pb.js")),
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Splits a string like a POSIX shell (github.com/google/shlex, used by the Go host for `nodeargs`). */
function shellSplit(s) {
    const out = [];
    let cur = "";
    let has = false;
    let quote = null;
    for (let i = 0; i < s.length; i++) {
        const c = s[i];
        if (quote === "'") {
            if (c === "'") {
                quote = null;
            } else {
                cur += c;
            }
        } else if (quote === '"') {
            if (c === '"') {
                quote = null;
            } else if (c === "\\" && i + 1 < s.length && "\\\"$`\n".includes(s[i + 1])) {
                cur += s[++i];
            } else {
                cur += c;
            }
        } else if (c === "'" || c === '"') {
            quote = c;
            has = true;
        } else if (c === "\\" && i + 1 < s.length) {
            cur += s[++i];
            has = true;
        } else if (/\s/.test(c)) {
            if (has || cur) {
                out.push(cur);
            }
            cur = "";
            has = false;
        } else if (c === "#" && !has && !cur) {
            break; // comment
        } else {
            cur += c;
            has = true;
        }
    }
    if (quote) {
        throw new Error(`nodeargs: unclosed ${quote} quote in ${JSON.stringify(s)}`);
    }
    if (has || cur) {
        out.push(cur);
    }
    return out;
}

function parseOptions(info, runtime) {
    const raw = info && info.getOptions() ? info.getOptions().toJavaScript() : {};
    const opts = { typescript: true, tsconfigpath: "", nodeargs: "", packagemanager: "auto" };
    if ("typescript" in raw) {
        if (typeof raw.typescript !== "boolean") {
            throw new Error("typescript option must be a boolean");
        }
        opts.typescript = raw.typescript;
    }
    if ("tsconfig" in raw) {
        if (typeof raw.tsconfig !== "string") {
            throw new Error("tsconfigpath option must be a string");
        }
        opts.tsconfigpath = raw.tsconfig;
    }
    if ("nodeargs" in raw) {
        if (typeof raw.nodeargs !== "string") {
            throw new Error("nodeargs option must be a string");
        }
        opts.nodeargs = raw.nodeargs;
    }
    if ("packagemanager" in raw) {
        const pm = raw.packagemanager;
        if (!["auto", "npm", "yarn", "pnpm", "bun"].includes(pm)) {
            throw new Error(`packagemanager option must be one of auto, npm, yarn, pnpm or bun, got ${JSON.stringify(pm)}`);
        }
        opts.packagemanager = pm;
    }
    if (runtime === "bun") {
        Object.assign(opts, { typescript: false, tsconfigpath: "", nodeargs: "", packagemanager: "bun" });
    }
    return opts;
}

/** `ns:name` → `ns:config:name`, the config key form the Node SDK expects in PULUMI_CONFIG (Go: config.ParseKey). */
function legacyConfigKey(key) {
    const i = key.indexOf(":");
    if (i <= 0) {
        throw new Error(`could not parse ${JSON.stringify(key)} as a configuration key ` +
            "(configuration keys should be of the form `<namespace>:<name>`)");
    }
    const ns = key.slice(0, i);
    let name = key.slice(i + 1);
    if (name.startsWith("config:")) {
        name = name.slice("config:".length);
    }
    return `${ns}:config:${name}`;
}

function resolveModule(mod, fromDir) {
    try {
        return require.resolve(mod, { paths: [fromDir] });
    } catch (err) {
        if (err && err.code === "MODULE_NOT_FOUND") {
            throw new Error("It looks like the Pulumi SDK has not been installed. Have you run pulumi install?");
        }
        throw err;
    }
}

function findUp(dir, names) {
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
        for (const n of names) {
            if (fs.existsSync(path.join(d, n))) {
                return { dir: d, name: n };
            }
        }
        if (path.dirname(d) === d) {
            return undefined;
        }
    }
}

/** The package manager for a program folder: the runtime option if set, else guessed from lock files (Go: npm). */
function packageManager(option, dir) {
    if (option && option !== "auto") {
        return option;
    }
    const found = findUp(dir, ["bun.lock", "bun.lockb", "pnpm-lock.yaml", "yarn.lock", "package-lock.json"]);
    if (!found) {
        return "npm";
    }
    return { "bun.lock": "bun", "bun.lockb": "bun", "pnpm-lock.yaml": "pnpm", "yarn.lock": "yarn" }[found.name] || "npm";
}

function readJson(file) {
    return JSON.parse(fs.readFileSync(file, "utf8"));
}

function compareSemver(a, b) {
    const pa = String(a).split(/[.+-]/).map((x) => parseInt(x, 10) || 0);
    const pb = String(b).split(/[.+-]/).map((x) => parseInt(x, 10) || 0);
    for (let i = 0; i < 3; i++) {
        if (pa[i] !== pb[i]) {
            return pa[i] - pb[i];
        }
    }
    return 0;
}

/**
 * Walks `dir` like the Go host's getPackagesFromDir: every folder below the program directory, skipping nested policy
 * packs, reading package.json files inside node_modules; returns the packages that declare a resource plugin.
 */
function packagesFromDir(dir, inNodeModules, visited, sdkVersions, errors) {
    let real;
    try {
        real = fs.realpathSync(dir);
    } catch (err) {
        errors.push(err);
        return [];
    }
    if (visited.has(real)) {
        return [];
    }
    visited.add(real);
    let entries;
    try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
        errors.push(new Error(`reading plugin dir ${dir}: ${err.message}`));
        return [];
    }
    const packages = [];
    for (const e of entries) {
        const curr = path.join(dir, e.name);
        let isDir = e.isDirectory();
        if (e.isSymbolicLink()) {
            try {
                isDir = fs.statSync(curr).isDirectory();
            } catch (err) {
                errors.push(new Error(`resolving link in plugin dir ${curr}: ${err.message}`));
                continue;
            }
        }
        if (isDir) {
            if (fs.existsSync(path.join(curr, "PulumiPolicy.yaml"))) {
                continue; // a policy pack's plugins are not the program's
            }
            packages.push(...packagesFromDir(curr, inNodeModules || path.basename(dir) === "node_modules",
                visited, sdkVersions, errors));
        } else if (inNodeModules && e.name === "package.json") {
            let info;
            try {
                info = readJson(curr);
            } catch (err) {
                errors.push(new Error(`unmarshaling package.json ${curr}: ${err.message}`));
                continue;
            }
            if (info.name === "@pulumi/pulumi" && info.version) {
                sdkVersions.set(curr, info.version);
            }
            const p = info.pulumi || {};
            if (p.resource) {
                let name = p.name;
                if (!name) {
                    if (typeof info.name === "string" && info.name.startsWith("@pulumi/")) {
                        name = info.name.slice("@pulumi/".length);
                    } else {
                        errors.push(new Error(`Missing property "name" for the third-party plugin '${info.name}' ` +
                            "inside package.json under the \"pulumi\" section."));
                        continue;
                    }
                }
                let version = p.version || info.version;
                if (!version) {
                    errors.push(new Error(`Missing expected "version" property in ${curr}`));
                    continue;
                }
                if (!version.startsWith("v")) {
                    version = "v" + version;
                }
                packages.push({ name, version, server: p.server || "", parameterization: p.parameterization });
            }
        }
    }
    return packages;
}

function requiredPackages(programDir) {
    const sdkVersions = new Map();
    const errors = [];
    const packages = packagesFromDir(programDir, false, new Set(), sdkVersions, errors);
    const versions = [...sdkVersions.entries()];
    for (let i = 1; i < versions.length; i++) {
        if (versions[i][1].split(".")[0] !== versions[0][1].split(".")[0]) {
            process.stderr.write(`Found incompatible versions of @pulumi/pulumi. Differing major versions are not ` +
                `supported.\n  Version ${versions[0][1]} referenced at ${versions[0][0]}\n` +
                `  Version ${versions[i][1]} referenced at ${versions[i][0]}\n`);
            break;
        }
    }
    return packages;
}

/** Direct (or all, when transitive) dependencies of the program, with the versions installed in node_modules. */
function programDependencies(programDir, transitive) {
    const manifest = findUp(programDir, ["package.json"]);
    if (!manifest) {
        throw new Error(`no package.json found for ${programDir}`);
    }
    const pkg = readJson(path.join(manifest.dir, "package.json"));
    const result = new Map();
    const visit = (name, range, fromDir, depth) => {
        let version = range;
        let dir;
        try {
            const pj = require.resolve(`${name}/package.json`, { paths: [fromDir] });
            version = readJson(pj).version || range;
            dir = path.dirname(pj);
        } catch {
            // not installed (or no exported package.json): report the declared range, as `npm ls` would
        }
        const key = `${name}@${version}`;
        if (result.has(key)) {
            return;
        }
        result.set(key, { name, version });
        if (transitive && dir && depth < 64) {
            try {
                const deps = readJson(path.join(dir, "package.json")).dependencies || {};
                for (const [n, r] of Object.entries(deps)) {
                    visit(n, r, dir, depth + 1);
                }
            } catch {
                // unreadable manifest: stop here
            }
        }
    };
    for (const [n, r] of Object.entries({ ...(pkg.devDependencies || {}), ...(pkg.dependencies || {}) })) {
        visit(n, r, manifest.dir, 0);
    }
    return [...result.values()];
}

function commandVersion(cmd, cwd) {
    try {
        const r = childProcess.spawnSync(cmd, ["--version"], { cwd, encoding: "utf8", timeout: 15000 });
        return r.status === 0 ? r.stdout.trim() : "";
    } catch {
        return "";
    }
}

function findOnPath(cmd) {
    for (const d of (process.env.PATH || "").split(path.delimiter)) {
        const p = path.join(d || ".", cmd);
        try {
            fs.accessSync(p, fs.constants.X_OK);
            if (fs.statSync(p).isFile()) {
                return p;
            }
        } catch {
            // keep looking
        }
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The service

function main() {
    const { flags, positional } = parseArgs(process.argv.slice(2));
    let sdk;
    try {
        sdk = loadSdk();
    } catch (err) {
        process.stderr.write(`${err.message}\n`);
        process.exit(1);
    }
    if (flags.version) {
        process.stdout.write(`v${sdk.version}\n`);
        return;
    }
    const runtime = flags.runtime || "nodejs";
    if (runtime !== "nodejs" && runtime !== "bun") {
        process.stderr.write(`unsupported runtime: ${runtime}\n`);
        process.exit(1);
    }
    const runtimeExec = runtime === "nodejs" ? "node" : "bun";
    const { grpc, lang, plugin, empty, services } = sdk;
    let engineAddress = positional[0] || "";
    const running = new Set(); // child processes of Run calls, for Cancel

    const unimplemented = (name) => (call, callback) => {
        const err = { code: grpc.status.UNIMPLEMENTED, details: `method ${name} not implemented` };
        if (typeof callback === "function") {
            callback(err);
        } else {
            call.emit("error", err);
        }
    };
    const unary = (fn) => (call, callback) => {
        Promise.resolve()
            .then(() => fn(call.request, call))
            .then((res) => callback(null, res))
            .catch((err) => callback({ code: grpc.status.UNKNOWN, details: String((err && err.message) || err) }));
    };

    const server = new grpc.Server({
        "grpc.max_receive_message_length": 1024 * 1024 * 400,
        "grpc.max_send_message_length": 1024 * 1024 * 400,
    });

    let healthTimer;
    const startHealthcheck = (addr) => {
        if (!addr || healthTimer) {
            return;
        }
        const client = new grpc.Client(addr, grpc.credentials.createInsecure());
        const check = () => {
            client.makeUnaryRequest("/grpc.health.v1.Health/Check", () => Buffer.alloc(0), (b) => b, Buffer.alloc(0),
                { deadline: Date.now() + 30000 },
                (err) => {
                    // Like the Go host: anything but "unimplemented" means the engine is gone.
                    if (err && err.code !== grpc.status.UNIMPLEMENTED) {
                        shutdown(0);
                    }
                });
        };
        healthTimer = setInterval(check, HEALTHCHECK_INTERVAL_MS);
        healthTimer.unref();
    };

    const killChildren = (signal) => {
        for (const child of running) {
            try {
                child.kill(signal);
            } catch {
                // already gone
            }
        }
    };
    const shutdown = (code) => {
        killChildren("SIGINT");
        server.tryShutdown(() => process.exit(code));
        setTimeout(() => {
            killChildren("SIGKILL");
            process.exit(code);
        }, 5000).unref();
    };

    const run = (req, call) => new Promise((resolve, reject) => {
        const info = req.getInfo();
        if (!info) {
            reject(new Error("RunRequest has no program info (this host needs a Pulumi CLI >= 3.100)"));
            return;
        }
        if (!engineAddress) {
            reject(new Error("when debugging or running explicitly, must call Handshake before Run"));
            return;
        }
        if (req.getAttachDebugger()) {
            resolve(new lang.RunResponse().setError(
                "attaching a debugger is not supported by this pulumi-language-nodejs (scripts/pulumi-language-nodejs.js)"));
            return;
        }
        const programDir = info.getProgramDirectory();
        const response = (error, bail) => {
            const r = new lang.RunResponse().setError(error || "");
            if (bail) {
                r.setBail(true);
            }
            return r;
        };
        let opts;
        let runPath;
        let nodeArgs;
        let runtimeBin;
        try {
            opts = parseOptions(info, runtime);
            nodeArgs = shellSplit(opts.nodeargs);
            runtimeBin = findOnPath(runtimeExec);
            if (!runtimeBin) {
                resolve(response(`could not find ${runtimeExec} on the $PATH`));
                return;
            }
            runPath = resolveModule(process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH || "@pulumi/pulumi/cmd/run", programDir);
        } catch (err) {
            resolve(response(err.message));
            return;
        }

        const args = [runPath];
        const add = (k, v) => {
            if (v !== undefined && v !== null && v !== "") {
                args.push(`--${k}`, String(v));
            }
        };
        add("monitor", req.getMonitorAddress());
        add("engine", engineAddress);
        add("organization", req.getOrganization());
        add("project", req.getProject());
        add("root-directory", info.getRootDirectory());
        add("stack", req.getStack());
        add("pwd", programDir);
        if (req.getDryrun()) {
            args.push("--dry-run");
        }
        add("parallel", String(req.getParallel()));
        add("tracing", flags.tracing);
        args.push(info.getEntryPoint() || ".");
        args.push(...req.getArgsList());

        const config = {};
        let configJson;
        try {
            req.getConfigMap().forEach((v, k) => {
                config[legacyConfigKey(k)] = v;
            });
            configJson = JSON.stringify(config);
        } catch (err) {
            resolve(response(`failed to serialize configuration: ${err.message}`));
            return;
        }
        const env = { ...process.env };
        delete env.PULUMI_LANGUAGE_NODEJS_SDK_PATHS;
        env.PULUMI_CONFIG = configJson;
        env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(req.getConfigsecretkeysList());
        if (opts.typescript) {
            env.PULUMI_NODEJS_TYPESCRIPT = "true";
        }
        if (opts.tsconfigpath) {
            env.PULUMI_NODEJS_TSCONFIG_PATH = opts.tsconfigpath;
        }
        const argv = runtime === "bun" ? ["run", ...nodeArgs, ...args] : [...nodeArgs, ...args];

        let child;
        try {
            child = childProcess.spawn(runtimeBin, argv, { env, stdio: ["ignore", "inherit", "inherit"] });
        } catch (err) {
            resolve(response(`Problem executing program (could not run language executor): ${err.message}`));
            return;
        }
        running.add(child);
        let escalate;
        const stop = () => {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGINT");
                escalate = setTimeout(() => child.kill("SIGKILL"), 5000);
                escalate.unref();
            }
        };
        call.on("cancelled", stop);
        child.on("error", (err) => {
            running.delete(child);
            resolve(response(`Problem executing program (could not run language executor): ${err.message}`));
        });
        child.on("exit", (code, signal) => {
            running.delete(child);
            clearTimeout(escalate);
            if (code === 0) {
                resolve(response(""));
            } else if (code === NODEJS_BAILED) {
                resolve(response("", true));
            } else if (code !== null) {
                resolve(response(`Program exited with non-zero exit code: ${code}`));
            } else {
                resolve(response(`Program exited unexpectedly: signal: ${signal}`));
            }
        });
    });

    const installDependencies = (call) => {
        const req = call.request;
        const info = req.getInfo();
        const programDir = (info && info.getProgramDirectory()) || req.getDirectory();
        const write = (stream, text) => {
            const r = new lang.InstallDependenciesResponse();
            if (stream === "stdout") {
                r.setStdout(Buffer.from(text));
            } else {
                r.setStderr(Buffer.from(text));
            }
            call.write(r);
        };
        let pm;
        try {
            pm = packageManager(parseOptions(info, runtime).packagemanager, programDir);
        } catch (err) {
            call.emit("error", { code: grpc.status.UNKNOWN, details: `failed to parse options: ${err.message}` });
            return;
        }
        // npm/yarn workspaces: install from the workspace root, as the Go host does.
        let root = programDir;
        for (let d = path.dirname(path.resolve(programDir)); d !== path.dirname(d); d = path.dirname(d)) {
            const pj = path.join(d, "package.json");
            if (fs.existsSync(pj)) {
                try {
                    const ws = readJson(pj).workspaces;
                    if (ws) {
                        root = d;
                        write("stdout", `Detected workspace root at ${d}\n`);
                    }
                } catch {
                    // not a workspace root
                }
                break;
            }
        }
        const cmdArgs = pm === "npm" ? ["install", "--loglevel=error"] : ["install"];
        write("stdout", "Installing dependencies...\n\n");
        const bin = findOnPath(pm);
        if (!bin) {
            call.emit("error", { code: grpc.status.UNKNOWN, details: `could not find ${pm} on the $PATH` });
            return;
        }
        const child = childProcess.spawn(bin, cmdArgs, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
        child.stdout.on("data", (b) => write("stdout", b));
        child.stderr.on("data", (b) => write("stderr", b));
        child.on("error", (err) => call.emit("error", { code: grpc.status.UNKNOWN, details: err.message }));
        child.on("close", (code) => {
            if (code !== 0) {
                call.emit("error", {
                    code: grpc.status.UNKNOWN,
                    details: `${pm} install failed: exit status ${code}`,
                });
                return;
            }
            write("stdout", "Finished installing dependencies\n\n");
            call.end();
        });
    };

    const impl = {
        handshake: unary((req) => {
            engineAddress = req.getEngineAddress();
            startHealthcheck(engineAddress);
            return new lang.LanguageHandshakeResponse();
        }),
        getPluginInfo: unary(() => new plugin.PluginInfo().setVersion(`v${sdk.version}`)),
        getRequiredPlugins: unary((req) => {
            const dir = req.getInfo() ? req.getInfo().getProgramDirectory() : req.getProgram();
            const res = new lang.GetRequiredPluginsResponse();
            res.setPluginsList(requiredPackages(dir).map((p) =>
                new plugin.PluginDependency().setName(p.name).setKind("resource").setVersion(p.version)
                    .setServer(p.server)));
            return res;
        }),
        getRequiredPackages: unary((req) => {
            const res = new lang.GetRequiredPackagesResponse();
            res.setPackagesList(requiredPackages(req.getInfo().getProgramDirectory()).map((p) => {
                const d = new plugin.PackageDependency().setName(p.name).setKind("resource").setVersion(p.version)
                    .setServer(p.server);
                if (p.parameterization) {
                    d.setParameterization(new plugin.PackageParameterization()
                        .setName(p.parameterization.name || "")
                        .setVersion(p.parameterization.version || "")
                        .setValue(p.parameterization.value || ""));
                }
                return d;
            }));
            return res;
        }),
        run: unary(run),
        installDependencies,
        runtimeOptionsPrompts: unary(() => new lang.RuntimeOptionsResponse()),
        template: unary(() => new lang.TemplateResponse()),
        about: unary((req) => {
            const info = req.getInfo();
            const dir = (info && info.getProgramDirectory()) || process.cwd();
            const pm = packageManager(parseOptions(info, runtime).packagemanager, dir);
            const exe = findOnPath(runtimeExec);
            if (!exe) {
                throw new Error(`could not find executable "${runtimeExec}"`);
            }
            const res = new lang.AboutResponse().setExecutable(exe).setVersion(commandVersion(exe, dir));
            res.getMetadataMap().set("packagemanager", pm);
            const pmVersion = commandVersion(pm, dir);
            if (pmVersion) {
                res.getMetadataMap().set("packagemanagerVersion", pmVersion);
            }
            return res;
        }),
        getProgramDependencies: unary((req) => {
            const dir = req.getInfo() ? req.getInfo().getProgramDirectory() : req.getProgram();
            const res = new lang.GetProgramDependenciesResponse();
            res.setDependenciesList(programDependencies(dir, req.getTransitivedependencies()).map((d) =>
                new lang.DependencyInfo().setName(d.name).setVersion(d.version)));
            return res;
        }),
        runPlugin: unimplemented("RunPlugin"),
        generateProgram: unimplemented("GenerateProgram"),
        generateProject: unimplemented("GenerateProject"),
        generatePackage: unimplemented("GeneratePackage"),
        pack: unimplemented("Pack"),
        link: unimplemented("Link"),
        cancel: unary(() => {
            killChildren("SIGINT");
            return new empty.Empty();
        }),
    };
    // Anything a newer @pulumi/pulumi adds to the service answers UNIMPLEMENTED.
    for (const name of Object.keys(services.LanguageRuntimeService)) {
        if (!(name in impl)) {
            impl[name] = unimplemented(services.LanguageRuntimeService[name].path);
        }
    }
    server.addService(services.LanguageRuntimeService, impl);
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) {
            process.stderr.write(`could not start language host RPC server: ${err.message}\n`);
            process.exit(1);
        }
        // The spawner reads this line to learn where to reach us.
        process.stdout.write(`${port}\n`);
        startHealthcheck(engineAddress);
    });

    // The CLI stops plugins with SIGINT to the process group, then SIGKILL after 5 s.
    process.on("SIGINT", () => shutdown(0));
    process.on("SIGTERM", () => shutdown(0));
    // If the CLI dies without stopping us, don't linger.
    const parent = process.ppid;
    setInterval(() => {
        if (process.ppid !== parent) {
            shutdown(0);
        }
    }, 2000).unref();
}

if (require.main === module) {
    main();
}

module.exports = { parseArgs, shellSplit, legacyConfigKey, parseOptions };

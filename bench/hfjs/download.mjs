// The official JavaScript Hub client (@huggingface/hub, pinned in package.json) as one benchmark client.
//
// Usage: node download.mjs --hub URL --repo org/name [--revision main] [--token T] --dest DIR
//                          (--path FILE ... | --all) [--files-in-flight N]
//
// It downloads each file the way a user of the library would: downloadFile() resolves with
// `Accept: application/vnd.xet-fileinfo+json` and returns a Blob backed by the Xet reconstruction; its stream is
// piped to <dest>/<path> (the same write downloadFileToCacheDir does, without the cache's symlink farm, which needs
// the paths-info route). `--all` lists the repo first (listFiles, recursive) and downloads every file, N at a time:
// the library has no multi-file download, so this is the loop a user writes.
// On success it prints one JSON line: {"files":N,"bytes":B}. Any error exits non-zero with the library's message.
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { downloadFile, listFiles } from "@huggingface/hub";

function parseArgs(argv) {
  const options = { paths: [], all: false, revision: "main", filesInFlight: 4 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
      return argv[++i];
    };
    switch (name) {
      case "--hub": options.hub = value().replace(/\/+$/, ""); break;
      case "--repo": options.repo = value(); break;
      case "--revision": options.revision = value(); break;
      case "--token": options.token = value(); break;
      case "--dest": options.dest = value(); break;
      case "--path": options.paths.push(value()); break;
      case "--all": options.all = true; break;
      case "--files-in-flight": options.filesInFlight = Number.parseInt(value(), 10); break;
      default: throw new Error(`unknown argument ${name}`);
    }
  }
  if (!options.hub || !options.repo || !options.dest) throw new Error("--hub, --repo and --dest are required");
  if (!options.all && options.paths.length === 0) throw new Error("give --path FILE (repeatable) or --all");
  if (!(options.filesInFlight >= 1)) throw new Error("--files-in-flight must be >= 1");
  return options;
}

function repoDesignation(text) {
  // "datasets/org/name" and "spaces/org/name" as on the Hub; a bare "org/name" is a model.
  const match = /^(datasets|spaces)\/(.+)$/.exec(text);
  return match ? { type: match[1].slice(0, -1), name: match[2] } : { type: "model", name: text };
}

async function saveOne(options, repo, path) {
  const blob = await downloadFile({
    repo, path, revision: options.revision, hubUrl: options.hub, accessToken: options.token,
  });
  if (blob === null) throw new Error(`${path}: not found on ${options.hub}`);
  const target = join(options.dest, path);
  await mkdir(dirname(target), { recursive: true });
  await pipeline(Readable.fromWeb(blob.stream()), createWriteStream(target));
  return blob.size;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const repo = repoDesignation(options.repo);
  let paths = options.paths;
  if (options.all) {
    paths = [];
    for await (const entry of listFiles({
      repo, revision: options.revision, hubUrl: options.hub, accessToken: options.token, recursive: true,
    })) {
      if (entry.type === "file") paths.push(entry.path);
    }
  }
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++];
      bytes += await saveOne(options, repo, path);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.filesInFlight, paths.length) }, worker));
  console.log(JSON.stringify({ files: paths.length, bytes }));
}

main().catch((error) => {
  console.error(`hfjs: ${error?.stack ?? error}`);
  process.exit(1);
});

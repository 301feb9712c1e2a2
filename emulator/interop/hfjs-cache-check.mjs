// The Hugging Face cache across clients, huggingface.js's side (run by run-hfjs-cache):
//   read <xetpsCache>: a cache XetPs filled. scanCacheDir must find the repo with every listed file, the same sizes and
//     the revision main names; downloadFileToCacheDir with the commit must return each snapshot path without a request
//     (its hub URL here is a closed port, so any request would fail).
//   fill <jsCache>: huggingface.js downloads every file into a fresh cache (commit revision), for XetPs to find.
// Exit code 1 on any mismatch.
import { downloadFileToCacheDir, listFiles, scanCacheDir } from "@huggingface/hub";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

const [mode, hubUrl, repo, cacheDir, commit] = process.argv.slice(2);
let failures = 0;
const check = (ok, what) => {
  if (!ok) failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
};
const files = [];
for await (const f of listFiles({ repo, recursive: true, hubUrl, revision: commit })) if (f.type === "file") files.push(f);

if (mode === "read") {
  const info = await scanCacheDir(cacheDir);
  check(info.warnings.length === 0, `scanCacheDir: no warnings (${info.warnings.map((w) => w.message).join("; ")})`);
  const cached = info.repos.find((r) => r.id.name === repo && r.id.type === "model");
  check(cached !== undefined, `scanCacheDir: ${repo} is in the cache`);
  const revision = cached?.revisions.find((r) => r.commitOid === commit);
  check(revision !== undefined, `scanCacheDir: revision ${commit} is there`);
  check(revision?.refs.includes("main") === true, `scanCacheDir: refs/main names ${commit}`);
  // huggingface.js's scanSnapshotDir reads a snapshot's top folder only (it skips subfolders), unlike huggingface_hub's
  // scan_cache_dir: files in subfolders are checked through downloadFileToCacheDir alone.
  const top = files.filter((f) => !f.path.includes("/"));
  for (const f of files) {
    if (!f.path.includes("/")) {
      const file = revision?.files.find((c) => c.path.endsWith("/" + commit + "/" + f.path));
      check(file?.blob.size === f.size, `scanCacheDir: ${f.path} has ${file?.blob.size} bytes, listed ${f.size}`);
    }
    const closedHub = "http://127.0.0.1:9"; // nothing listens there: a request would throw
    const pointer = await downloadFileToCacheDir({ repo, path: f.path, revision: commit, cacheDir, hubUrl: closedHub });
    const bytes = await readFile(pointer);
    const sha = createHash("sha256").update(bytes).digest("hex");
    check(bytes.length === f.size && (!f.lfs || sha === f.lfs.oid), `downloadFileToCacheDir: ${f.path} answered from the cache, bytes match`);
  }
  check(cached?.filesCount === top.length, `scanCacheDir: ${cached?.filesCount} blobs for the ${top.length} files of the snapshot's top folder`);
} else if (mode === "fill") {
  for (const f of files) {
    const pointer = await downloadFileToCacheDir({ repo, path: f.path, revision: commit, cacheDir, hubUrl });
    check((await readFile(pointer)).length === f.size, `downloadFileToCacheDir: ${f.path} saved`);
  }
} else {
  console.error("usage: hfjs-cache-check.mjs read|fill <hubUrl> <repo> <cacheDir> <commit>");
  process.exit(2);
}
process.exit(failures === 0 && files.length > 0 ? 0 : 1);

// Downloads every file of a repo served by the emulator with huggingface.js (listFiles + downloadFile, Xet path)
// and checks sizes, SHA-256 against the tree's lfs.oid, and one byte range. Exit code 1 on any mismatch.
import { downloadFile, listFiles } from "@huggingface/hub";
import { createHash } from "node:crypto";

const [hubUrl, repo = "xetps/sample"] = process.argv.slice(2);
let failures = 0;
const files = [];
for await (const f of listFiles({ repo, recursive: true, hubUrl })) if (f.type === "file") files.push(f);
for (const f of files) {
  const blob = await downloadFile({ repo, path: f.path, hubUrl });
  const bytes = Buffer.from(await blob.arrayBuffer());
  const sha = createHash("sha256").update(bytes).digest("hex");
  const ok = bytes.length === f.size && (!f.lfs || sha === f.lfs.oid);
  if (!ok) failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${f.path} ${f.xetHash ? "xet" : "plain"} ${bytes.length}/${f.size} bytes`);
  if (f.xetHash && bytes.length > 300_000) {
    const part = Buffer.from(await blob.slice(100_000, 300_123).arrayBuffer());
    const same = part.equals(bytes.subarray(100_000, 300_123));
    if (!same) failures++;
    console.log(`${same ? "ok  " : "FAIL"} ${f.path} range 100000-300122`);
  }
}
process.exit(failures === 0 && files.length > 0 ? 0 : 1);

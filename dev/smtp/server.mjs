// A loopback SMTP server for Kauko's mail tests (npm's smtp-server).
// Every message it accepts is written to DIR as <n>.eml, with the envelope
// in <n>.json. Usage:
//   node server.mjs --dir DIR [--port 0] [--user U --pass P]
// Prints one line `listening <port>` once it accepts connections. With
// --user/--pass it requires AUTH PLAIN/LOGIN with those credentials (plain
// text is allowed: loopback only).
import { SMTPServer } from "smtp-server";
import fs from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const dir = arg("dir", null);
if (!dir) {
  console.error("usage: node server.mjs --dir DIR [--port N] [--user U --pass P]");
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
const user = arg("user", null);
const pass = arg("pass", null);
let count = 0;

const server = new SMTPServer({
  secure: false,
  disabledCommands: user ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
  authOptional: !user,
  allowInsecureAuth: true,
  logger: false,
  onAuth(auth, _session, callback) {
    if (auth.username === user && auth.password === pass) {
      callback(null, { user: auth.username });
    } else {
      callback(new Error("Invalid username or password"));
    }
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => {
      count += 1;
      const base = path.join(dir, String(count).padStart(4, "0"));
      const envelope = {
        from: session.envelope.mailFrom && session.envelope.mailFrom.address,
        to: session.envelope.rcptTo.map((r) => r.address),
        user: session.user || null,
      };
      // Written whole, then renamed: a reader polling the folder never
      // sees a file half written.
      const put = (file, data) => {
        fs.writeFileSync(`${file}.part`, data);
        fs.renameSync(`${file}.part`, file);
      };
      put(`${base}.eml`, Buffer.concat(chunks));
      put(`${base}.json`, JSON.stringify(envelope));
      callback();
    });
  },
});

server.listen(Number(arg("port", "0")), "127.0.0.1", () => {
  console.log(`listening ${server.server.address().port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

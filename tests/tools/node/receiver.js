// A webhook receiver written with the npm `standardwebhooks` library (Standard Webhooks' reference).
//   node receiver.js serve <whsec_...>   listen on a free loopback port (printed first), verify each POST:
//                                        answer 204 and print "ok <webhook-id>", or 400 and "fail <reason>"
//   node receiver.js check               read {secret, body, headers} as JSON on stdin, exit 0 when it verifies
"use strict";
const http = require("http");
const { Webhook } = require("standardwebhooks");

function verify(secret, body, headers) {
  try {
    new Webhook(secret).verify(body, headers);
    return null;
  } catch (err) {
    return err.message || String(err);
  }
}

const [mode, secret] = process.argv.slice(2);
if (mode === "serve") {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const failure = verify(secret, Buffer.concat(chunks).toString("utf8"), req.headers);
      console.log(failure === null ? `ok ${req.headers["webhook-id"]}` : `fail ${failure}`);
      res.writeHead(failure === null ? 204 : 400).end();
    });
  });
  server.listen(0, "127.0.0.1", () => console.log(`port ${server.address().port}`));
} else if (mode === "check") {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const failure = verify(input.secret, input.body, input.headers);
  if (failure !== null) {
    console.log(`fail ${failure}`);
    process.exit(1);
  }
  console.log("ok");
} else {
  console.error("usage: node receiver.js serve <secret> | check");
  process.exit(2);
}

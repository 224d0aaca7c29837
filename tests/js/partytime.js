// Reads an RSS document on stdin and prints what podcast-partytime (the Podcast Index's
// parser) makes of it, as JSON, for tests/test_feed_parsers.py.
// The parser logs its warnings to stdout (pino); silence them, so stdout holds only the JSON.
process.env.PARTYTIME_LOG = "silent";
const { parseFeed } = require("podcast-partytime");

let xml = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { xml += chunk; });
process.stdin.on("end", () => {
  const feed = parseFeed(xml, { allowMissingGuid: false });
  process.stdout.write(JSON.stringify(feed));
});

// Reads an RSS document on stdin and prints what podcast-partytime (the Podcast Index's
// parser) makes of it, as JSON, for tests/test_feed_parsers.py.
const { parseFeed } = require("podcast-partytime");

let xml = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { xml += chunk; });
process.stdin.on("end", () => {
  const feed = parseFeed(xml, { allowMissingGuid: false });
  process.stdout.write(JSON.stringify(feed));
});

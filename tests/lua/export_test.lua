-- Markdown exports: an asset's own headings go under the export's, and its
-- "# Title" line is not written twice.
local T = require "candor.testing"
local export = require "candor.workspace.export"

T.test("without_title drops a first heading that repeats the title, past leading comments only", function()
  T.eq(export.without_title("<!-- note -->\n# Tideline\n\nBody\n", "Tideline"), "<!-- note -->\n\nBody\n")
  T.eq(export.without_title("# Other\nBody", "Tideline"), "# Other\nBody", "another heading stays")
  T.eq(export.without_title("Intro\n# Tideline\n", "Tideline"), "Intro\n# Tideline\n", "a heading after text stays")
  T.eq(export.without_title("# Tideline", ""), "# Tideline")
end)

T.test("demote moves headings down, leaves code blocks alone", function()
  T.eq(export.demote("# A\n```\n# not a heading\n```\n## B", 1), "## A\n```\n# not a heading\n```\n### B")
  T.eq(export.demote("# A"), "### A", "two levels by default")
end)

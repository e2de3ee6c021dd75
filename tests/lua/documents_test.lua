-- Reading product documents: text and Markdown (UTF-8 checked), PDF through
-- pdftotext on PDFs this file writes by hand (a text layer, none, encrypted,
-- broken), and pdftotext missing from PATH.
local T = require "candor.testing"
local uv = require "luv"
local documents = require "candor.documents"

-- A minimal valid PDF: the given objects, an xref table with each object's byte
-- offset, and a trailer (trailer_extra goes into its dictionary).
local function pdf_of(objs, trailer_extra)
  local out, offsets = { "%PDF-1.4\n" }, {}
  local pos = #out[1]
  for i, o in ipairs(objs) do
    offsets[i] = pos
    local s = string.format("%d 0 obj\n%s\nendobj\n", i, o)
    out[#out + 1] = s
    pos = pos + #s
  end
  local xref = { "xref\n", string.format("0 %d\n", #objs + 1), "0000000000 65535 f \n" }
  for i = 1, #objs do xref[#xref + 1] = string.format("%010d 00000 n \n", offsets[i]) end
  out[#out + 1] = table.concat(xref)
  out[#out + 1] = string.format("trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", #objs + 1,
    trailer_extra or "", pos)
  return table.concat(out)
end

local function stream(s) return string.format("<< /Length %d >>\nstream\n%s\nendstream", #s, s) end

-- One page per entry of pages (each a list of lines), in Helvetica.
local function text_pdf(pages, trailer_extra, extra_objs)
  local n = #pages
  local objs = { "<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>" }
  local kids = {}
  for i, lines in ipairs(pages) do
    local page_obj, content_obj = 2 + 2 * i, 3 + 2 * i
    kids[#kids + 1] = page_obj .. " 0 R"
    objs[page_obj] = string.format("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
      .. "/Resources << /Font << /F1 3 0 R >> >> >>", content_obj)
    local ops = { "BT /F1 12 Tf 14 TL 72 720 Td" }
    for _, l in ipairs(lines) do ops[#ops + 1] = "(" .. l:gsub("[()\\]", "\\%0") .. ") Tj T*" end
    ops[#ops + 1] = "ET"
    objs[content_obj] = stream(table.concat(ops, "\n"))
  end
  objs[2] = string.format("<< /Type /Pages /Kids [%s] /Count %d >>", table.concat(kids, " "), n)
  for _, o in ipairs(extra_objs or {}) do objs[#objs + 1] = o end
  return pdf_of(objs, trailer_extra)
end

T.test("documents: text and Markdown are read as UTF-8, a byte order mark dropped", function()
  local dir = T.tmpdir()
  local md = documents.read(T.write_file(dir .. "/product.md", "# Flakewatch\n\nFinds flaky tests — by SHA.\n"))
  T.eq(md, { name = "product.md", text = "# Flakewatch\n\nFinds flaky tests — by SHA.\n", document_type = "markdown",
             path = dir .. "/product.md" })
  local txt = documents.read(T.write_file(dir .. "/notes", "\239\187\191plain notes\n"))
  T.eq({ txt.document_type, txt.text }, { "text", "plain notes\n" })
  T.eq(documents.read(T.write_file(dir .. "/a.markdown", "x")).document_type, "markdown")
end)

T.test("documents: a PDF written here is extracted with pdftotext, pages and layout kept", function()
  local dir = T.tmpdir()
  local path = T.write_file(dir .. "/brief.pdf", text_pdf({
    { "Flakewatch (beta)", "Quarantines tests that flip on the same SHA." },
    { "Pricing: $12 per seat" },
  }))
  local d = documents.read(path)
  T.eq({ d.name, d.document_type }, { "brief.pdf", "pdf" })
  T.eq(d.text, "Flakewatch (beta)\nQuarantines tests that flip on the same SHA.\n\nPricing: $12 per seat\n")
  -- the type comes from the content, not the name
  local renamed = T.write_file(dir .. "/brief.txt", T.read_file(path))
  T.eq(documents.read(renamed).document_type, "pdf")
  -- and the pipelines read documents the same way
  T.eq(require("candor.pipeline").read_documents({ path })[1].text, d.text)
end)

T.test("documents: a PDF with no text layer, an encrypted one and a broken one are clear errors", function()
  local dir = T.tmpdir()
  local drawing = pdf_of {
    "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
    stream("0 0 1 rg 100 100 200 200 re f"),
  }
  T.raises(function() documents.read(T.write_file(dir .. "/scan.pdf", drawing)) end, "has no text layer")
  local id = string.rep("ab", 16)
  local encrypted = text_pdf({ { "secret" } }, "/Encrypt 6 0 R /ID [<" .. id .. "> <" .. id .. ">] ",
    { "<< /Filter /Standard /V 1 /R 2 /O <" .. string.rep("11", 32) .. "> /U <" .. string.rep("22", 32) .. "> /P -4 >>" })
  local msg = T.raises(function() documents.read(T.write_file(dir .. "/locked.pdf", encrypted)) end, "is encrypted")
  T.contains(msg, "locked.pdf")
  T.raises(function() documents.read(T.write_file(dir .. "/broken.pdf", "%PDF-1.4\nnot really\n")) end,
    "is not a readable PDF: .*trailer")
end)

T.test("documents: not UTF-8, empty, missing and directory inputs are usage errors naming the file", function()
  local dir = T.tmpdir()
  local ok, err = pcall(documents.read, T.write_file(dir .. "/latin1.txt", "caf\233 cr\232me\n"))
  T.eq({ ok, type(err) == "table" and err.kind }, { false, "usage" })
  T.contains(err.message, "latin1.txt is not valid UTF-8 (byte 4)")
  T.raises(function() documents.read(T.write_file(dir .. "/empty.md", "")) end, "empty.md is empty")
  T.raises(function() documents.read(T.write_file(dir .. "/blank.md", " \n\t\n")) end, "blank.md is empty")
  T.raises(function() documents.read(dir .. "/nope.md") end, "cannot read the document")
  T.raises(function() documents.read(dir) end, "is a directory")
end)

T.test("documents: pdftotext missing from PATH is a clear error naming poppler-utils", function()
  local dir = T.tmpdir()
  local path = T.write_file(dir .. "/brief.pdf", text_pdf({ { "hello" } }))
  local real = os.getenv("PATH")
  uv.os_setenv("PATH", dir)
  local ok, err = pcall(documents.read, path)
  uv.os_setenv("PATH", real)
  T.eq(ok, false)
  T.contains(tostring(err), "pdftotext is not installed (it comes with poppler-utils")
  T.contains(tostring(err), "brief.pdf")
  T.eq(documents.read(path).text, "hello\n", "found again once PATH is back")
end)

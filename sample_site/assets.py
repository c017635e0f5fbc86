"""Small, valid non-HTML files: a PDF, a PNG, a ZIP archive and stylesheets."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf(title: str) -> bytes:
    """A one-page PDF showing the title, with a correct cross-reference table."""
    text = title.replace("\\", "").replace("(", "").replace(")", "").encode("latin-1")
    content = b"BT /F1 24 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png(width: int = 16, height: int = 16) -> bytes:
    """A small RGB gradient PNG."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def zip_archive(files: dict[str, str]) -> bytes:
    """A ZIP archive of text files, byte-for-byte reproducible (fixed dates, no compression)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    return buffer.getvalue()


SPHINX_CSS = """body { font-family: sans-serif; margin: 0; }
div.related { background-color: #133f52; color: #fff; }
div.sphinxsidebar { float: left; width: 230px; margin-left: -100%; }
div.bodywrapper { margin: 0 0 0 230px; }
a.headerlink { visibility: hidden; }
h1:hover > a.headerlink, h2:hover > a.headerlink, h3:hover > a.headerlink { visibility: visible; }
"""
PYGMENTS_CSS = """.highlight .k { color: #007020; font-weight: bold }
.highlight .s2 { color: #4070a0 }
.highlight .c1 { color: #408090; font-style: italic }
"""
MKDOCS_CSS = """.md-header { position: sticky; top: 0; }
.md-sidebar { position: sticky; width: 12.1rem; }
.md-typeset .headerlink { opacity: 0; }
"""
DOCBOOK_CSS = """body { font-family: serif; }
pre.programlisting, pre.screen { background: #eee; padding: 0.5em; }
div.navheader, div.navfooter { font-size: small; }
"""

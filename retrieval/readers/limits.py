"""Bounds on what a reader will take, each with the reason for its number.

A file past a bound is skipped and named with the bound it broke; nothing else in the folder
is affected.
"""

# Text formats (plain text, Markdown, web pages, exports, feeds) are held whole in memory as
# bytes, text and passages; 10 MB of text is some 1.7 million words, far more than an article,
# a report or a week's export, so a bigger file is a log, a dump or a mistake.
MAX_TEXT_BYTES = 10_000_000
# PDFs and Word files carry fonts and pictures beside their text: a 200-page report with
# photographs is tens of MB, so these may be larger.
MAX_BINARY_BYTES = 50_000_000
# Pages read from one PDF. A long court filing or annual report has a few hundred; past this
# the file is a scan archive or a hostile file built to keep the reader busy.
MAX_PDF_PAGES = 2_000
# Text taken from all the pages of one PDF or the parts of one Word file: as MAX_TEXT_BYTES.
MAX_EXTRACTED_CHARS = 10_000_000
# A Word file is a zip: the sum of its members' uncompressed sizes, and how many times bigger
# than the file that sum may be. Real .docx files compress text about 3-10×; a zip bomb
# expands 1000× or more.
MAX_UNZIPPED_BYTES = 200_000_000
MAX_ZIP_RATIO = 100
MAX_ZIP_MEMBERS = 10_000
# Records read from one export or feed: a week of a busy newsroom is a few thousand.
MAX_RECORDS = 50_000
# HTML inside one record's body (a feed's content:encoded, an export's body field) is read
# like a page: bounded as a page is.
MAX_RECORD_BYTES = MAX_TEXT_BYTES

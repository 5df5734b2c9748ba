"""CSV exports of the back office, safe to open in a spreadsheet.

A cell whose text begins with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (CSV injection: `=HYPERLINK(...)`, DDE payloads). Any text
can begin so, not only what fans type: event, artist and affiliate names come from the staff of
every promoter. `csv_writer` therefore prefixes every such text cell, in every column, with an
apostrophe, which spreadsheets show as text; numbers, dates and empty cells pass as they are.
"""

import csv

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def inert(cell):
    """The cell as a spreadsheet will take it as text, not run it as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


class _InertWriter:
    def __init__(self, file):
        self._writer = csv.writer(file)

    def writerow(self, row):
        return self._writer.writerow([inert(cell) for cell in row])


def csv_writer(file) -> _InertWriter:
    """`csv.writer(file)` whose rows have every formula-like text cell made inert."""
    return _InertWriter(file)

"""Compile the translation catalogues (.po → .mo) without GNU gettext: `make messages`."""

from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def main() -> None:
    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        catalogue = polib.pofile(str(po_path))
        catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"{po_path.relative_to(LOCALE_DIR)}: {catalogue.percent_translated()}% translated")


if __name__ == "__main__":
    main()

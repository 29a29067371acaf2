"""Checks that i18n/fr.po translates every term of a template (--pot, default the committed one).

--merge first updates fr.po from the template.
"""

import sys
from pathlib import Path

import polib

I18N = Path(__file__).resolve().parent.parent / 'i18n'


def main():
    pot_path = sys.argv[sys.argv.index('--pot') + 1] if '--pot' in sys.argv else (
        I18N / 'payment_alma.pot')
    pot = polib.pofile(str(pot_path))
    french = polib.pofile(str(I18N / 'fr.po'))
    if '--merge' in sys.argv:
        french.merge(pot)
        french.metadata['Language'] = 'fr'
        french.save()
    known = {(entry.msgctxt, entry.msgid) for entry in french if not entry.obsolete}
    missing = [entry.msgid for entry in pot if (entry.msgctxt, entry.msgid) not in known]
    untranslated = [entry.msgid for entry in french.untranslated_entries()]
    fuzzy = [entry.msgid for entry in french.fuzzy_entries()]
    for title, terms in (("missing from fr.po", missing), ("untranslated", untranslated),
                         ("fuzzy", fuzzy)):
        for term in terms:
            print(f"{title}: {term!r}")
    if missing or untranslated or fuzzy:
        sys.exit(1)
    print(f"fr.po translates all {len(pot)} terms")


if __name__ == '__main__':
    main()

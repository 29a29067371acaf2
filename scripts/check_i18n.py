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
        for entry in french.obsolete_entries():  # Terms the code no longer has.
            french.remove(entry)
        french.metadata['Language'] = 'fr'
        french.save()
    known = {(entry.msgctxt, entry.msgid): entry for entry in french if not entry.obsolete}
    missing = [entry.msgid for entry in pot if (entry.msgctxt, entry.msgid) not in known]
    untranslated = [entry.msgid for entry in french.untranslated_entries()]
    fuzzy = [entry.msgid for entry in french.fuzzy_entries()]
    # Odoo applies a translation to Python or JavaScript code only when its entry says so
    # (`#. odoo-python`, `#. odoo-javascript`): without it the French is silently unused.
    unmarked = [
        entry.msgid for entry in pot
        if (entry.msgctxt, entry.msgid) in known
        and any(f'odoo-{kind}' in (entry.comment or '')
                and f'odoo-{kind}' not in (known[entry.msgctxt, entry.msgid].comment or '')
                for kind in ('python', 'javascript'))
    ]
    for title, terms in (("missing from fr.po", missing), ("untranslated", untranslated),
                         ("fuzzy", fuzzy), ("not marked as code in fr.po (run --merge)", unmarked)):
        for term in terms:
            print(f"{title}: {term!r}")
    if missing or untranslated or fuzzy or unmarked:
        sys.exit(1)
    print(f"fr.po translates all {len(pot)} terms")


if __name__ == '__main__':
    main()

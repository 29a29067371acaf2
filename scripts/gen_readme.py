"""Writes README.rst, the add-on's description as Odoo's Apps and OCA read it, from the OCA
fragments in readme/ (--check: fails when README.rst is not what they make).

Odoo stores a module's README.rst (before README.md) as its description: the root README.md
stays the developer's entry. The Markdown of the fragments is the little OCA's own tools read:
paragraphs, lists, **bold**, *italics*, `code` and [links](https://…).
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (('DESCRIPTION.md', None), ('CONFIGURE.md', "Configuration"),
            ('USAGE.md', "Usage"), ('ROADMAP.md', "Known issues / Roadmap"),
            ('CONTRIBUTORS.md', "Contributors"))


def rst(markdown):
    text = re.sub(r'\[([^\]]+)\]\(([^)]+)\)', r'`\1 <\2>`_', markdown)
    return re.sub(r'(?<!`)`([^`<]+)`(?![`_])', r'``\1``', text).strip() + '\n'


def render():
    title = "Alma Pay Later for Point of Sale"
    parts = ['=' * len(title), title, '=' * len(title), '']
    parts.append(".. Written by scripts/gen_readme.py from readme/: edit the fragments there.\n")
    for file_name, heading in SECTIONS:
        if heading:
            parts += [heading, '=' * len(heading), '']
        parts.append(rst((ROOT / 'readme' / file_name).read_text(encoding='utf-8')))
    return '\n'.join(parts)


def main():
    text, path = render(), ROOT / 'README.rst'
    if '--check' in sys.argv:
        if not path.exists() or path.read_text(encoding='utf-8') != text:
            sys.exit("README.rst is not what readme/ makes: run scripts/gen_readme.py")
        print("README.rst is made from readme/")
        return
    path.write_text(text, encoding='utf-8')


if __name__ == '__main__':
    main()

#!/usr/bin/env bash
# Regenerates NotoSansSC-sockscope.otf: Noto Sans CJK SC Regular (SIL OFL
# 1.1, Debian package fonts-noto-cjk) cut down to the characters the window
# needs: every character of the interface strings (src/i18n.rs), the
# 3755 common characters of GB2312 level 1, CJK punctuation and full-width
# forms, and ASCII. Needs fonts-noto-cjk and fonttools (pip install fonttools).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source_font=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
python3 - "$source_font" <<'PY'
import sys, pathlib
from fontTools.ttLib import TTCollection
from fontTools import subset

source = sys.argv[1]
chars = set(chr(c) for c in range(0x20, 0x7F))
chars |= set(chr(c) for c in range(0x3000, 0x3040))      # CJK punctuation
chars |= set(chr(c) for c in range(0xFF00, 0xFFF0))      # full-width forms
chars |= set("·×–—•…→←↑↓−“”‘’")
for high in range(0xB0, 0xD8):                            # GB2312 level 1
    for low in range(0xA1, 0xFF):
        try:
            chars.add(bytes([high, low]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
strings = pathlib.Path("../../src/i18n.rs").read_text(encoding="utf-8")
chars |= {c for c in strings if ord(c) > 0x7F}

collection = TTCollection(source)
index = next(i for i, font in enumerate(collection.fonts)
             if "Noto Sans CJK SC" in font["name"].getDebugName(1))
options = subset.Options()
options.font_number = index
options.layout_features = ["*"]
options.name_IDs = ["*"]
options.notdef_outline = True
font = subset.load_font(source, options)
subsetter = subset.Subsetter(options)
subsetter.populate(text="".join(sorted(chars)))
subsetter.subset(font)
font.save("NotoSansSC-sockscope.otf")
print(f"{len(chars)} characters -> NotoSansSC-sockscope.otf")
PY
ls -l NotoSansSC-sockscope.otf

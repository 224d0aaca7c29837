#!/bin/sh
# Extract every translatable string (templates and Python) into the template catalogue, merge it into the
# Dutch, French and German catalogues, and compile them. New strings arrive empty (untranslated): fill them
# in podcast_service/translations/LANG/LC_MESSAGES/messages.po, then run this again to compile.
# tests/test_translations.py fails while any string is missing or untranslated.
set -e
cd "$(dirname "$0")/.."
BABEL=.venv/bin/pybabel
DIR=podcast_service/translations
$BABEL extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output -w 120 \
  --project podcast-service --copyright-holder "podcast-service" -o "$DIR/messages.pot" .
for lang in nl fr de; do
  if [ -f "$DIR/$lang/LC_MESSAGES/messages.po" ]; then
    $BABEL update -w 120 --no-fuzzy-matching --ignore-obsolete -i "$DIR/messages.pot" -d "$DIR" -l "$lang"
  else
    $BABEL init -i "$DIR/messages.pot" -d "$DIR" -l "$lang"
  fi
done
$BABEL compile -d "$DIR" >/dev/null

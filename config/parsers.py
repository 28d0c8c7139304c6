"""The REST API's JSON parser: DRF's, reading through webhooks.untrusted.

DRF's own JSONParser lets RecursionError (deep nesting) escape as a 500; this one answers 400
for anything that is not JSON we can hold, saying why. DRF hands a JSON parser the request's
`body`, which Django has already capped at DATA_UPLOAD_MAX_MEMORY_SIZE (413, config.errors).
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

from webhooks.untrusted import MalformedInput, json_parse


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding}: {exc}") from None
        try:
            return json_parse(text)
        except MalformedInput as exc:
            raise ParseError(f"JSON parse error - {exc}") from None

"""JSON answers and the API errors handlers raise."""

import json
from http import HTTPStatus

from werkzeug.wrappers import Response


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(data), status, headers, mimetype="application/json")


class ApiError(Exception):
    """Raised by a handler; the dispatcher turns it into a JSON answer."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def field_error(field: str, code: str, value, message: str) -> dict:
    return {"field": field, "error_code": code, "value": value, "message": message}


def validation_error(errors: list[dict]) -> ApiError:
    return ApiError(400, {"error_code": "validation_error", "errors": errors})


def invalid_field(field: str, code: str, value, message: str) -> ApiError:
    return validation_error([field_error(field, code, value, message)])


def invalid_state(message: str) -> ApiError:
    return ApiError(400, {"error_code": "invalid_state", "message": message})


def not_found(message: str) -> ApiError:
    return ApiError(404, {"error_code": "not_found", "message": message})


UNAUTHORIZED = ApiError(401, {"message": "Credentials invalid or not supplied"})


def simulated_failure(
    status: int, retry_after: int | None = None, body: dict | None = None
) -> Response:
    """The answer of a fail switch: `{"message": "Internal server error"}` and the like.

    Alma publishes no figure for its rate limit, nor whether a 429 carries `Retry-After`
    (alma-api.md, "Errors"); the stand-in sends the standard HTTP header (RFC 9110, 10.2.3) so
    that a client honouring it can be tested. Not confirmed on Alma's sandbox.
    """
    try:
        message = HTTPStatus(status).phrase.capitalize()
    except ValueError:  # a code without a standard phrase, such as 499
        message = "Error"
    # Retry-After 0 by default so that a client honouring it retries at once and tests stay fast.
    headers = {"Retry-After": str(retry_after or 0)} if status == 429 else None
    return json_response(body if body is not None else {"message": message}, status, headers)

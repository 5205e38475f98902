from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from portal.api.authentication import request_client


class HasRequiredScopes(BasePermission):
    """The client's key must carry every scope in the view's ``required_scopes``.

    A view that declares no scopes is closed: deny by default.
    """

    message = "This API key does not carry the scope this endpoint needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        required = getattr(view, "required_scopes", None)
        if required is None:
            self.message = "This endpoint declares no scope, so it is closed."
            return False
        client = request_client(request)
        if client is None:
            return False
        if not client.has_scopes(set(required)):
            missing = ", ".join(sorted(set(required) - set(client.scopes)))
            self.message = f"This API key lacks the scope(s): {missing}."
            return False
        return True

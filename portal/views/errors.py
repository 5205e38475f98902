"""Error pages. Paths under /api/ get JSON, everything else the portal's pages."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from portal import audit
from portal.models.audit import Outcome


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "The request could not be understood."}, status=400)
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    reason = str(exception) or "You do not have access to this page."
    audit.record(
        "access.denied",
        request=request,
        outcome=Outcome.DENIED,
        details={"path": request.path, "method": request.method, "reason": reason},
    )
    if _wants_json(request):
        return JsonResponse({"detail": reason}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Something went wrong on our side."}, status=500)
    # No request context: whatever failed (the database, say) must not fail this page too.
    return HttpResponse(loader.get_template("500.html").render(), status=500)

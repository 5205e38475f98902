from django.urls import include, path

from ciss import certification_views, inbox_views, routing_views, subscription_views, views

app_name = "ciss"

urlpatterns = [
    path("search/", views.search_view, name="search"),
    path("search/results/", views.search_results_view, name="search_results"),
    path("misuse/", views.misuse_view, name="misuse"),
    path("associations/", include("ciss.association_urls")),
    path("batch/", include("ciss.batch_urls")),
    path("certification/", certification_views.certification_list_view, name="certification"),
    path(
        "certification/<uuid:public_id>/",
        certification_views.certification_client_view,
        name="certification_client",
    ),
    path(
        "certification/<uuid:public_id>/run/",
        certification_views.certification_run_view,
        name="certification_run",
    ),
    path("inbox/", inbox_views.inbox_view, name="inbox"),
    path("inbox/items/", inbox_views.inbox_items_view, name="inbox_items"),
    path("inbox/settings/", inbox_views.inbox_settings_view, name="inbox_settings"),
    path("inbox/<uuid:public_id>/", inbox_views.inbox_detail_view, name="inbox_detail"),
    path(
        "inbox/<uuid:public_id>/acknowledge/",
        inbox_views.inbox_acknowledge_view,
        name="inbox_acknowledge",
    ),
    path("sent/", inbox_views.sent_view, name="sent"),
    path("sent/<uuid:public_id>/", inbox_views.sent_detail_view, name="sent_detail"),
    path(
        "attachments/<uuid:public_id>/",
        inbox_views.attachment_file_view,
        name="attachment_file",
    ),
    path("routing/", routing_views.routing_rules_view, name="routing_rules"),
    path("routing/new/", routing_views.routing_rule_create_view, name="routing_rule_create"),
    path(
        "routing/<uuid:public_id>/edit/",
        routing_views.routing_rule_edit_view,
        name="routing_rule_edit",
    ),
    path(
        "routing/<uuid:public_id>/deactivate/",
        routing_views.routing_rule_deactivate_view,
        name="routing_rule_deactivate",
    ),
    path(
        "routing/<uuid:public_id>/reactivate/",
        routing_views.routing_rule_reactivate_view,
        name="routing_rule_reactivate",
    ),
    path("routing/preview/", routing_views.routing_preview_view, name="routing_preview"),
    path("routing/courts/", routing_views.court_locations_view, name="court_locations"),
    path(
        "routing/courts/new/",
        routing_views.court_location_create_view,
        name="court_location_create",
    ),
    path(
        "routing/courts/<str:code>/edit/",
        routing_views.court_location_edit_view,
        name="court_location_edit",
    ),
    path(
        "deliveries/problems/",
        routing_views.delivery_problems_view,
        name="delivery_problems",
    ),
    path(
        "deliveries/<uuid:public_id>/retry/",
        routing_views.delivery_retry_view,
        name="delivery_retry",
    ),
    path(
        "deliveries/<uuid:public_id>/alert-again/",
        routing_views.alert_resend_view,
        name="alert_resend",
    ),
    path(
        "deliveries/exchanges/<uuid:public_id>/route-again/",
        routing_views.exchange_reroute_view,
        name="exchange_reroute",
    ),
    path("following/", subscription_views.following_view, name="following"),
    path("following/plate/", subscription_views.follow_plate_view, name="follow_plate"),
    path("following/case/", subscription_views.follow_case_view, name="follow_case"),
    path("following/person/", subscription_views.follow_person_view, name="follow_person"),
    path(
        "following/<uuid:public_id>/renew/",
        subscription_views.subscription_renew_view,
        name="subscription_renew",
    ),
    path(
        "following/<uuid:public_id>/email/",
        subscription_views.subscription_cadence_view,
        name="subscription_cadence",
    ),
    path(
        "following/<uuid:public_id>/stop/",
        subscription_views.subscription_stop_view,
        name="subscription_stop",
    ),
]

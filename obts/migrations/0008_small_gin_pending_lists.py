"""The name and address search indexes keep a small pending list (``portal.gin``), so
that a search never scans megabytes of entries not yet merged into the index."""

from django.db import migrations

from portal.gin import small_pending_lists


class Migration(migrations.Migration):
    dependencies = [("obts", "0007_person_restricted_views")]

    operations = [small_pending_lists("person_name_trigram", "address_location_trigram")]

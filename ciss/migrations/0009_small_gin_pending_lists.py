"""The plate and location search indexes keep a small pending list (``portal.gin``), so
that a search never scans megabytes of entries not yet merged into the index."""

from django.db import migrations

from portal.gin import small_pending_lists


class Migration(migrations.Migration):
    dependencies = [("ciss", "0008_vehicle_plate_positions")]

    operations = [
        small_pending_lists(
            "vehicle_plate_positions", "vehicle_plate_trigram", "location_key_trigram"
        )
    ]

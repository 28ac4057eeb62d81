"""A review policy's approvals are bounded: at least 1, at most MAX_APPROVALS (20), the
high-risk minimum no lower than the ordinary one (ReviewPolicy.clean). Validators and help text
only: no schema change, and rows saved before are left as they are."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("reviews", "0005_flatten_reply_threads"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reviewpolicy",
            name="high_risk_min_approvals",
            field=models.PositiveIntegerField(
                default=2,
                help_text="When any step is High risk; no fewer than the ordinary minimum.",
                validators=[django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(20)],
            ),
        ),
        migrations.AlterField(
            model_name="reviewpolicy",
            name="min_approvals",
            field=models.PositiveIntegerField(
                default=1,
                help_text="At least 1 (a plan is never approved unreviewed), at most 20.",
                validators=[django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(20)],
            ),
        ),
    ]

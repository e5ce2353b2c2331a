"""Chain the audit trail: each entry stores its place, the previous entry's hash and its own; existing rows are backfilled."""

from django.conf import settings
from django.db import migrations, models

from common.audit import backfill_chains


def chain_existing_entries(apps, schema_editor):
    backfill_chains(
        apps.get_model("sos", "SOSAuditEntry"), apps.get_model("common", "AuditChainHead"),
        label="sos.sosauditentry", subject_field="sos_request",
    )


class Migration(migrations.Migration):

    dependencies = [
        ("common", "0001_audit_chain_head"),
        ('sos', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='sosauditentry',
            name='chain',
            field=models.CharField(default='', editable=False, max_length=160),
        ),
        migrations.AddField(
            model_name='sosauditentry',
            name='chain_seq',
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='sosauditentry',
            name='entry_hash',
            field=models.CharField(default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='sosauditentry',
            name='prev_hash',
            field=models.CharField(default='', editable=False, max_length=64),
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='sosauditentry',
            constraint=models.UniqueConstraint(fields=('chain', 'chain_seq'), name='sos_sosauditentry_chain_seq'),
        ),
    ]

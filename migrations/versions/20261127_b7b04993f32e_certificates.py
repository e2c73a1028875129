"""certificates: issued, sealed PDFs with their verification code and status

One row per issued document (licence, occupancy authorization, access response, committee
resolution). The PDF is stored by its SHA-256 and never changes; the status does (revoked,
superseded, expired). Rows point at the audit entry that issued them and, once revoked, at the one
that revoked them.

Revision ID: b7b04993f32e
Revises: a91f4c2e7d35
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7b04993f32e'
down_revision = 'a91f4c2e7d35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('licence', 'occupancy', 'access_response', 'committee_resolution', name='certificatekind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('folio', sa.String(length=40), nullable=False),
    sa.Column('verification_code', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('valid', 'revoked', 'superseded', 'expired', name='certificatestatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.Column('revoked_seq', sa.Integer(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('cadena_original', sa.Text(), nullable=False),
    sa.Column('sello', sa.Text(), nullable=False),
    sa.Column('signing_certificate', sa.Text(), nullable=False),
    sa.Column('public_data', sa.JSON(), nullable=False),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_certificates_sha256_length')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_certificates_size_positive')),
    sa.CheckConstraint("status <> 'revoked' OR (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL)", name=op.f('ck_certificates_revoked_has_reason')),
    sa.CheckConstraint("status <> 'superseded' OR superseded_by_id IS NOT NULL", name=op.f('ck_certificates_superseded_has_successor')),
    sa.ForeignKeyConstraint(['audit_seq'], ['audit_entries.seq'], name=op.f('fk_certificates_audit_seq_audit_entries')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_certificates_case_id_cases')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_certificates_issued_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_seq'], ['audit_entries.seq'], name=op.f('fk_certificates_revoked_seq_audit_entries')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['certificates.id'], name=op.f('fk_certificates_superseded_by_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('number', name=op.f('uq_certificates_number')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_certificates_verification_code'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_folio'), ['folio'], unique=False)
        batch_op.create_index('ix_certificates_case_kind', ['case_id', 'kind'], unique=False)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_case_kind')
        batch_op.drop_index(batch_op.f('ix_certificates_folio'))

    op.drop_table('certificates')

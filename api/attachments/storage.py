"""Where attachment bytes live: one interface, two backends chosen by settings.

- `FolderStorage`: `{data_dir}/attachments/{tenant_id}/{attachment_id}`, the embedded
  default. Writes go to a temporary file in the same folder, then `os.replace`, so a reader
  never sees half a file and a failed write leaves nothing behind.
- `S3Storage`: any S3-compatible service through boto3 (MinIO in docker-compose), one key
  prefix per tenant: `{tenant_id}/{attachment_id}`. Devices upload to
  `{tenant_id}/incoming/{attachment_id}` through a pre-signed PUT; only after the server
  has checked those bytes are they written to the final key, so the final key only ever
  holds checked content, and a pre-signed URL can never overwrite a confirmed file.
  Pre-signed URLs are signed for `s3_public_endpoint` when it is set (the address devices
  reach the bucket at); everything the server does itself goes to `s3_endpoint`.

Keys are built here only, from a validated tenant id and attachment id.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from sync.errors import BadRequest
from sync.naming import is_tenant_id

ATTACHMENT_ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def _check(tenant_id: str, attachment_id: str) -> None:
    if not is_tenant_id(tenant_id or ""):
        raise BadRequest(f"Tenant id {tenant_id!r} is malformed.")
    if not ATTACHMENT_ID_RE.match(attachment_id or ""):
        raise BadRequest(
            f"Attachment id {attachment_id!r} is not valid: use a ULID (or 1 to 64 letters, digits, - and _)."
        )


class AttachmentStorage(Protocol):
    """Bytes by (tenant, attachment id). `incoming` names the unchecked upload area (S3 only)."""

    kind: str  # "folder" or "s3"
    presigns: bool  # whether devices upload straight to the storage through pre-signed URLs

    def put(self, tenant_id: str, attachment_id: str, data: bytes, content_type: str) -> None: ...

    def get(self, tenant_id: str, attachment_id: str) -> bytes | None: ...

    def exists(self, tenant_id: str, attachment_id: str) -> bool: ...

    def delete(self, tenant_id: str, attachment_id: str) -> None: ...


class FolderStorage:
    """Attachments as files under `{root}/{tenant_id}/`."""

    kind = "folder"
    presigns = False

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, tenant_id: str, attachment_id: str) -> Path:
        _check(tenant_id, attachment_id)
        return self.root / tenant_id / attachment_id

    def put(self, tenant_id: str, attachment_id: str, data: bytes, content_type: str) -> None:
        target = self.path(tenant_id, attachment_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def get(self, tenant_id: str, attachment_id: str) -> bytes | None:
        try:
            return self.path(tenant_id, attachment_id).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, tenant_id: str, attachment_id: str) -> bool:
        return self.path(tenant_id, attachment_id).is_file()

    def delete(self, tenant_id: str, attachment_id: str) -> None:
        try:
            self.path(tenant_id, attachment_id).unlink()
        except FileNotFoundError:
            pass


class S3Storage:
    """Attachments as objects `{tenant_id}/{attachment_id}` in one bucket."""

    kind = "s3"
    presigns = True

    def __init__(self, client, bucket: str, presign_client=None) -> None:
        """`client` makes every call the server sends itself; `presign_client` (default: the
        same) only signs the URLs handed to devices."""
        self.client = client
        self.presign_client = presign_client or client
        self.bucket = bucket
        self._bucket_checked = False

    @classmethod
    def from_settings(cls, settings) -> S3Storage:
        import boto3  # noqa: PLC0415  (only needed when S3 is configured)
        from botocore.config import Config  # noqa: PLC0415

        # One session: with boto3's credential chain, both clients share what it found.
        session = boto3.session.Session()

        def client_for(endpoint: str | None):
            return session.client(
                "s3",
                endpoint_url=endpoint or None,
                region_name=settings.s3_region,
                aws_access_key_id=settings.s3_access_key or None,
                aws_secret_access_key=settings.s3_secret_key or None,
                # Path-style addressing works with MinIO and every S3; SigV4 is what pre-signed
                # URLs need everywhere.
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path"},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )

        client = client_for(settings.s3_endpoint)
        # SigV4 signs the Host header, so a URL signed for the server's address of the bucket
        # (http://minio:9000 in docker-compose) cannot be rewritten to the address phones use:
        # it must be signed for that address. Signing is local, so this client never connects.
        presign_client = client_for(settings.s3_public_endpoint) if settings.s3_public_endpoint else client
        return cls(client, settings.s3_bucket, presign_client)

    # --- keys ------------------------------------------------------------------------------
    @staticmethod
    def key(tenant_id: str, attachment_id: str) -> str:
        _check(tenant_id, attachment_id)
        return f"{tenant_id}/{attachment_id}"

    @staticmethod
    def incoming_key(tenant_id: str, attachment_id: str) -> str:
        _check(tenant_id, attachment_id)
        return f"{tenant_id}/incoming/{attachment_id}"

    def _ensure_bucket(self) -> None:
        """Create the bucket on first use when it is missing (a fresh MinIO), once per process."""
        if self._bucket_checked:
            return
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
            self.client.create_bucket(Bucket=self.bucket)
        self._bucket_checked = True

    def _get_key(self, key: str, max_bytes: int | None = None) -> bytes | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        self._ensure_bucket()
        kwargs = {"Bucket": self.bucket, "Key": key}
        if max_bytes is not None:
            kwargs["Range"] = f"bytes=0-{max_bytes - 1}"
        try:
            return self.client.get_object(**kwargs)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def _size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        self._ensure_bucket()
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    # --- the interface --------------------------------------------------------------------
    def put(self, tenant_id: str, attachment_id: str, data: bytes, content_type: str) -> None:
        self._ensure_bucket()
        self.client.put_object(
            Bucket=self.bucket, Key=self.key(tenant_id, attachment_id), Body=data, ContentType=content_type
        )

    def get(self, tenant_id: str, attachment_id: str) -> bytes | None:
        return self._get_key(self.key(tenant_id, attachment_id))

    def exists(self, tenant_id: str, attachment_id: str) -> bool:
        return self._size(self.key(tenant_id, attachment_id)) is not None

    def delete(self, tenant_id: str, attachment_id: str) -> None:
        self._ensure_bucket()
        self.client.delete_object(Bucket=self.bucket, Key=self.key(tenant_id, attachment_id))

    # --- the unchecked upload area and pre-signed URLs ---------------------------------------
    def presign_put(
        self, tenant_id: str, attachment_id: str, content_type: str, size: int, expires_in: int
    ) -> str:
        """A URL a device PUTs the file to: the incoming key, this content type and length only."""
        self._ensure_bucket()
        return self.presign_client.generate_presigned_url(
            "put_object",
            ExpiresIn=expires_in,
            HttpMethod="PUT",
            Params={
                "Bucket": self.bucket,
                "Key": self.incoming_key(tenant_id, attachment_id),
                "ContentType": content_type,
                "ContentLength": size,
            },
        )

    def presign_get(
        self, tenant_id: str, attachment_id: str, content_type: str, disposition: str, expires_in: int
    ) -> str:
        self._ensure_bucket()
        return self.presign_client.generate_presigned_url(
            "get_object",
            ExpiresIn=expires_in,
            HttpMethod="GET",
            Params={
                "Bucket": self.bucket,
                "Key": self.key(tenant_id, attachment_id),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
        )

    def incoming_size(self, tenant_id: str, attachment_id: str) -> int | None:
        return self._size(self.incoming_key(tenant_id, attachment_id))

    def get_incoming(self, tenant_id: str, attachment_id: str, max_bytes: int) -> bytes | None:
        return self._get_key(self.incoming_key(tenant_id, attachment_id), max_bytes)

    def delete_incoming(self, tenant_id: str, attachment_id: str) -> None:
        self._ensure_bucket()
        self.client.delete_object(Bucket=self.bucket, Key=self.incoming_key(tenant_id, attachment_id))


def open_storage(settings) -> AttachmentStorage:
    """S3 when a bucket is configured, else the folder under the data folder."""
    if settings.s3_bucket:
        return S3Storage.from_settings(settings)
    return FolderStorage(Path(settings.data_dir) / "attachments")

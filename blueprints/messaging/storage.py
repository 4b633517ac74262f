"""Object storage for attachments behind pre-signed URLs, with a local-disk implementation.

Clients never stream files through the chat: they ask for an upload URL, ``PUT`` the bytes there, then
send a message naming the attachment. The URL is a capability, as with S3 pre-signed URLs: it names
one key, one size, one SHA-256 and one content type, is signed (itsdangerous, the app's secret) and
expires. :class:`LocalDiskStorage` serves those URLs itself (``PUT /messages/uploads/<token>``,
``GET /messages/files/<token>``) and stores files under ``MESSAGING_STORAGE_DIR``; an S3 adapter would
implement the same three methods with boto3's ``generate_presigned_url`` and ``head_object``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

UPLOAD_SALT = "bazaar.messaging.upload"
DOWNLOAD_SALT = "bazaar.messaging.download"
CHUNK = 64 * 1024


class StorageError(Exception):
    """An upload or download was refused: ``status`` as in HTTP, ``errors`` per field."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or {}


@dataclass(frozen=True)
class UploadTicket:
    """Where and how the client sends the bytes: ``method`` to ``url`` with ``headers``, before expiry."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class StoredObject:
    size: int
    checksum: str  # SHA-256, hex
    content_type: str


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    content_type: str


class Storage(Protocol):
    def presign_upload(self, *, key: str, content_type: str, size: int, checksum: str) -> UploadTicket: ...

    def presign_download(self, *, key: str, filename: str, content_type: str) -> tuple[str, datetime]: ...

    def stat(self, key: str) -> StoredObject | None: ...


class LocalDiskStorage:
    """Files under ``root`` (``<key>`` + a ``<key>.json`` sidecar with size, checksum, content type)."""

    def __init__(self, *, root: str | Path, secret: str, base_url: str, ttl_seconds: int) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl_seconds
        self._upload = URLSafeTimedSerializer(secret, salt=UPLOAD_SALT)
        self._download = URLSafeTimedSerializer(secret, salt=DOWNLOAD_SALT)

    # -- the Storage protocol -----------------------------------------------------------------------
    def presign_upload(self, *, key: str, content_type: str, size: int, checksum: str) -> UploadTicket:
        self._path(key)  # refuse odd keys now rather than at upload time
        token = self._upload.dumps({"k": key, "t": content_type, "s": size, "c": checksum})
        return UploadTicket(
            url=f"{self.base_url}/messages/uploads/{token}",
            method="PUT",
            headers={"Content-Type": content_type},
            expires_at=self._expiry(),
        )

    def presign_download(self, *, key: str, filename: str, content_type: str) -> tuple[str, datetime]:
        token = self._download.dumps({"k": key, "f": filename, "t": content_type})
        return f"{self.base_url}/messages/files/{token}", self._expiry()

    def stat(self, key: str) -> StoredObject | None:
        try:
            meta = json.loads(self._path(key + ".json").read_text())
            size = self._path(key).stat().st_size
        except (FileNotFoundError, ValueError):
            return None
        if size != meta.get("size"):
            return None
        return StoredObject(size=size, checksum=meta["checksum"], content_type=meta["content_type"])

    # -- the endpoints of the local implementation -------------------------------------------------
    def receive(self, token: str, content_type: str | None, stream: IO[bytes]) -> StoredObject:
        """Store the body of ``PUT <upload url>`` if it is exactly what the URL was signed for."""
        claims = self._claims(self._upload, token)
        key, size, checksum = claims["k"], int(claims["s"]), claims["c"]
        if (content_type or "").split(";")[0].strip().lower() != claims["t"]:
            raise StorageError(422, "Wrong content type.", {"Content-Type": [f"Must be {claims['t']}."]})
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        received = 0
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := stream.read(CHUNK):
                    received += len(chunk)
                    if received > size:
                        raise StorageError(
                            422, "The body is larger than signed.", {"body": [f"Expected {size} bytes."]}
                        )
                    digest.update(chunk)
                    tmp.write(chunk)
            if received != size:
                raise StorageError(422, "The body is not the signed size.", {"body": [f"Expected {size} bytes."]})
            if digest.hexdigest() != checksum:
                raise StorageError(422, "The body does not match its checksum.", {"body": ["SHA-256 mismatch."]})
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        stored = StoredObject(size=size, checksum=checksum, content_type=claims["t"])
        self._path(key + ".json").write_text(json.dumps(stored.__dict__))
        return stored

    def open(self, token: str) -> Download:
        """The file a download URL names (404 once it is gone)."""
        claims = self._claims(self._download, token)
        path = self._path(claims["k"])
        if not path.is_file():
            raise StorageError(404, "No such file.")
        return Download(path=path, filename=claims["f"], content_type=claims["t"])

    # -- helpers -------------------------------------------------------------------------------------
    def _expiry(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=self.ttl)

    def _claims(self, serializer: URLSafeTimedSerializer, token: str) -> dict:
        try:
            claims = serializer.loads(token, max_age=self.ttl)
        except SignatureExpired:
            raise StorageError(403, "This link has expired; ask for a new one.") from None
        except BadSignature:
            raise StorageError(403, "This link is not valid.") from None
        if not isinstance(claims, dict) or not isinstance(claims.get("k"), str):
            raise StorageError(403, "This link is not valid.")
        return claims

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise StorageError(400, "Invalid storage key.")
        return path

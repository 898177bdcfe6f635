"""S3-compatible object storage for tests: moto's S3 server on a free local port, spoken to over HTTP by
the same django-storages and boto3 code that talks to AWS, MinIO or R2 in production."""

import socket
import uuid
from contextlib import contextmanager

import boto3

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "creatorhub-test", "AWS_SECRET_ACCESS_KEY": "creatorhub-test-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def s3_server():
    """Yields the endpoint URL of a running S3 server with no buckets."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def new_bucket(endpoint: str) -> str:
    name = f"creatorhub-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def environment(endpoint: str, bucket: str) -> dict[str, str]:
    """What an operator sets to store files in this bucket (creatorhub.settings)."""
    return {
        "FILE_STORAGE": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": REGION,
        "S3_ADDRESSING_STYLE": "path",
        **CREDENTIALS,
    }


def keys(endpoint: str, bucket: str) -> list[str]:
    listing = client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))

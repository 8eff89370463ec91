"""Downloading a finished video: streamed to disk, capped in size and time, clear about expired links."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.provider import (
    Img2VideoRequest,
    TransientProviderError,
    VideoTooLarge,
    VideoUnavailable,
    ViduClient,
)
from tests.fakes.provider import SAMPLE_VIDEO, FakeProvider, Fault
from tests.provider.conftest import data_uri


async def finished_video_url(fake: FakeProvider, client: ViduClient, **plan: object) -> tuple[str, str]:
    fake.plan_next_task(queue_seconds=0, processing_seconds=0, **plan)  # type: ignore[arg-type]
    task_id = (await client.submit(Img2VideoRequest(image=data_uri(), prompt="a cat walks"))).task_id
    result = await client.get_task(task_id)
    return task_id, result.videos[0].url


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_download_writes_the_real_mp4(fake: FakeProvider, client: ViduClient, tmp_path: Path) -> None:
    _, url = await finished_video_url(fake, client)
    dest = tmp_path / "out.mp4"
    written = await client.download_video(url, dest, max_bytes=1_000_000, timeout=10)
    data = dest.read_bytes()
    assert written == len(data) == SAMPLE_VIDEO.stat().st_size
    assert data[4:8] == b"ftyp"
    assert leftovers(tmp_path) == ["out.mp4"]
    # A presigned URL needs no key: the key must never travel to the file host.
    assert not fake.requests_to("video")[0].authorized


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
async def test_large_video_is_streamed_whole(
    fake: FakeProvider, client: ViduClient, tmp_path: Path, with_length: bool
) -> None:
    fake.send_video_length = with_length
    _, url = await finished_video_url(fake, client, video_size=3_000_000)
    dest = tmp_path / "big.mp4"
    written = await client.download_video(url, dest, max_bytes=3_000_000, timeout=20)
    assert written == 3_000_000
    assert dest.stat().st_size == 3_000_000
    with dest.open("rb") as handle:
        assert handle.read(len(SAMPLE_VIDEO.read_bytes())) == SAMPLE_VIDEO.read_bytes()


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
async def test_video_over_the_cap_is_refused_and_nothing_is_left(
    fake: FakeProvider, client: ViduClient, tmp_path: Path, with_length: bool
) -> None:
    fake.send_video_length = with_length
    _, url = await finished_video_url(fake, client, video_size=2_000_000)
    with pytest.raises(VideoTooLarge):
        await client.download_video(url, tmp_path / "big.mp4", max_bytes=1_000_000, timeout=20)
    assert leftovers(tmp_path) == []


async def test_expired_link_is_video_unavailable(fake: FakeProvider, client: ViduClient, tmp_path: Path) -> None:
    task_id, url = await finished_video_url(fake, client, ttl_seconds=600)
    fake.advance(601)
    with pytest.raises(VideoUnavailable) as caught:
        await client.download_video(url, tmp_path / "v.mp4", max_bytes=1_000_000, timeout=10)
    assert caught.value.status == 403
    assert "expired" in str(caught.value)
    assert leftovers(tmp_path) == []
    # Polling again hands out a fresh link that works.
    fresh = (await client.get_task(task_id)).videos[0].url
    assert await client.download_video(fresh, tmp_path / "v.mp4", max_bytes=1_000_000, timeout=10) > 0


async def test_revoked_links_are_video_unavailable(fake: FakeProvider, client: ViduClient, tmp_path: Path) -> None:
    _, url = await finished_video_url(fake, client)
    fake.expire_video_urls()
    with pytest.raises(VideoUnavailable):
        await client.download_video(url, tmp_path / "v.mp4", max_bytes=1_000_000, timeout=10)


@pytest.mark.parametrize("code", [404, 410])
async def test_gone_file_is_video_unavailable(
    fake: FakeProvider, client: ViduClient, tmp_path: Path, code: int
) -> None:
    _, url = await finished_video_url(fake, client)
    fake.inject("video", Fault.status(code, "NoSuchKey"))
    with pytest.raises(VideoUnavailable) as caught:
        await client.download_video(url, tmp_path / "v.mp4", max_bytes=1_000_000, timeout=10)
    assert caught.value.status == code


async def test_slow_download_hits_the_time_cap(fake: FakeProvider, client: ViduClient, tmp_path: Path) -> None:
    _, url = await finished_video_url(fake, client)
    fake.inject("video", Fault.slow(10))
    with pytest.raises(TransientProviderError, match="longer than"):
        await client.download_video(url, tmp_path / "v.mp4", max_bytes=1_000_000, timeout=0.3)
    assert leftovers(tmp_path) == []


async def test_connection_broken_mid_file_leaves_nothing(
    fake: FakeProvider, client: ViduClient, tmp_path: Path
) -> None:
    _, url = await finished_video_url(fake, client, video_size=2_000_000)
    fake.inject("video", Fault.drop_after())
    with pytest.raises(TransientProviderError):
        await client.download_video(url, tmp_path / "v.mp4", max_bytes=5_000_000, timeout=10)
    assert leftovers(tmp_path) == []


async def test_busy_file_host_is_transient(fake: FakeProvider, client: ViduClient, tmp_path: Path) -> None:
    _, url = await finished_video_url(fake, client)
    fake.inject("video", Fault.status(503))
    with pytest.raises(TransientProviderError) as caught:
        await client.download_video(url, tmp_path / "v.mp4", max_bytes=1_000_000, timeout=10)
    assert caught.value.status == 503


async def test_non_http_video_url_is_refused(client: ViduClient, tmp_path: Path) -> None:
    with pytest.raises(VideoUnavailable):
        await client.download_video("file:///etc/passwd", tmp_path / "v.mp4", max_bytes=10, timeout=1)

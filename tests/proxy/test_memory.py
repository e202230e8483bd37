"""A 50 MiB upload and a 50 MiB download through a real gateway process (uvicorn, production loop):
both arrive intact, GoBE sees the upload while it is still being sent, nothing is spooled to disk,
and the process's peak RSS grows by a small bounded amount, far below the body size."""

from __future__ import annotations

from mockllm import ServerThread
from tests.proxy.echo_gobe import EchoGoBE
from tests.proxy.memory_probe import APPS, MIB, GatewayProcess, download, upload, warm_up

BODY_BYTES = 50 * MIB
# uvloop lets libuv read up to 32 x 256 KiB from GoBE per wake-up before anyio pauses the socket:
# ~8 MiB in flight per download at most, whatever the body size (proxy/README.md § Memory).
MAX_GROWTH_BYTES = 12 * MIB


def test_50_mib_each_way_streams_through_with_flat_memory(
    gobe_server: tuple[EchoGoBE, ServerThread], gobe: EchoGoBE
) -> None:
    with GatewayProcess(app=APPS["raw ASGI route"], gobe_url=gobe_server[1].url) as gateway:
        warm_up(gateway, gobe)
        up = upload(gateway, gobe, size=BODY_BYTES)
        down = download(gateway, size=BODY_BYTES)

    assert up.intact and down.intact
    assert up.gobe_first_byte_s is not None and up.client_done_s is not None
    assert up.gobe_first_byte_s < up.client_done_s  # streamed, not buffered first
    assert up.spooled_peak_bytes == 0
    assert up.peak_growth_bytes < MAX_GROWTH_BYTES
    assert down.peak_growth_bytes < MAX_GROWTH_BYTES

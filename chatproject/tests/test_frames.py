"""The frames chatproject/http_server.py writes for a fan-out, read by a real client's parser
(the `websockets` library, sans I/O)."""

import pytest
from websockets.frames import Opcode
from websockets.protocol import Protocol, Side, State

from chatproject.http_server import text_frame


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_000])
def test_a_text_frame_of_any_size_reads_back_as_its_text(size):
    """Sizes in bytes of UTF-8 at each edge of the three length encodings."""
    text = "é" * (size // 4) + "x" * (size - 2 * (size // 4))
    assert len(text.encode()) == size
    client = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
    client.receive_data(text_frame(text) + text_frame("next"))
    frames = client.events_received()
    assert [(frame.opcode, frame.fin) for frame in frames] == [(Opcode.TEXT, True)] * 2
    assert [frame.data.decode() for frame in frames] == [text, "next"]

"""The worker reads two fields of ib_async's decoder by position (the raw
execution time, the commission report's realizedPNL text: see
trading.gateway.connection.DecoderTaps).  These tests feed ib_async's own
decoder the simulator's real messages, so an ib_async upgrade that moves a
field fails here, loudly, not as wrong data in the journal."""

from __future__ import annotations

from ib_async import IB
from ib_async.decoder import Decoder

from ibsim import protocol
from trading.gateway.connection import (
    COMMISSION_REPORT,
    EXEC_DETAILS,
    DecoderTaps,
)

SERVER_VERSION = 178  # what ibsim and today's gateways speak
AAPL = protocol.ContractSpec(
    symbol="AAPL",
    con_id=265598,
    sec_type="STK",
    primary_exchange="NASDAQ",
    long_name="APPLE INC",
    industry="Technology",
    category="Computers",
    stock_type="COMMON",
)


def execution(exec_id: str, realized_pnl: float | None) -> protocol.ExecutionView:
    return protocol.ExecutionView(
        exec_id=exec_id,
        order_id=12,
        client_id=0,
        perm_id=1788680597,
        contract=AAPL,
        time_text="20250115 14:30:25 UTC",
        account="DU1234567",
        exchange="ISLAND",
        side="BOT",
        shares=10,
        price=230.5,
        cum_qty=10,
        avg_price=230.5,
        order_ref="my_trade_001",
        commission=1.0,
        realized_pnl=realized_pnl,
    )


def decoder_with_taps() -> tuple[IB, Decoder, DecoderTaps]:
    ib = IB()
    decoder = Decoder(ib.wrapper, SERVER_VERSION)
    taps = DecoderTaps()
    taps.install(decoder)
    return ib, decoder, taps


def message(fields: list[object]) -> list[str]:
    return [protocol.encode_field(field) for field in fields]


def test_the_message_ids_are_ib_async_s_exec_details_and_commission_report() -> None:
    decoder = Decoder(IB().wrapper, SERVER_VERSION)

    assert decoder.handlers[EXEC_DETAILS].__name__ == "execDetails"
    assert decoder.handlers[COMMISSION_REPORT].__name__ == "commissionReport"


def test_the_raw_time_tap_reads_the_execution_s_own_id_and_time() -> None:
    ib, decoder, taps = decoder_with_taps()
    view = execution("0000e0d5.6578b1c2.01.01", realized_pnl=None)

    decoder.interpret(message(protocol.exec_details(SERVER_VERSION, -1, view)))

    fill = ib.wrapper.fills[view.exec_id]
    assert taps.raw_times == {view.exec_id: view.time_text}
    assert fill.execution.execId == view.exec_id
    assert fill.execution.time.strftime("%Y%m%d %H:%M:%S") == "20250115 14:30:25"


def test_an_unset_realized_pnl_is_told_apart_from_a_zero_one() -> None:
    ib, decoder, taps = decoder_with_taps()
    opening = execution("0000e0d5.6578b1c2.01.01", realized_pnl=None)
    closing = execution("0000e0d5.6578b1c2.02.01", realized_pnl=12.5)

    for view in (opening, closing):
        decoder.interpret(message(protocol.exec_details(SERVER_VERSION, -1, view)))
        decoder.interpret(message(protocol.commission_report(view)))

    assert taps.pnl_unset(opening.exec_id)
    assert not taps.pnl_unset(closing.exec_id)
    assert ib.wrapper.fills[closing.exec_id].commissionReport.realizedPNL == 12.5

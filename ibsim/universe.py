"""The built-in universe: US stocks and ETFs with real-looking contract data
and plausible start prices."""

from ibsim.protocol import ContractSpec

_STOCKS: list[tuple[str, int, str, str, str, str, str, float]] = [
    # symbol, conId, primary exchange, long name, industry, category, stock type, price
    ("AAPL", 265598, "NASDAQ", "APPLE INC", "Technology", "Computers", "COMMON", 236.42),
    ("MSFT", 272093, "NASDAQ", "MICROSOFT CORP", "Technology", "Software", "COMMON", 415.10),
    (
        "TSLA",
        76792991,
        "NASDAQ",
        "TESLA INC",
        "Consumer, Cyclical",
        "Auto Manufacturers",
        "COMMON",
        251.30,
    ),
    ("AMZN", 3691937, "NASDAQ", "AMAZON.COM INC", "Communications", "Internet", "COMMON", 186.55),
    (
        "GOOGL",
        208813719,
        "NASDAQ",
        "ALPHABET INC-CL A",
        "Communications",
        "Internet",
        "COMMON",
        168.20,
    ),
    (
        "GOOG",
        208813720,
        "NASDAQ",
        "ALPHABET INC-CL C",
        "Communications",
        "Internet",
        "COMMON",
        169.75,
    ),
    (
        "META",
        107113386,
        "NASDAQ",
        "META PLATFORMS INC-CLASS A",
        "Communications",
        "Internet",
        "COMMON",
        512.40,
    ),
    ("NVDA", 4815747, "NASDAQ", "NVIDIA CORP", "Technology", "Semiconductors", "COMMON", 121.85),
    (
        "AMD",
        4391,
        "NASDAQ",
        "ADVANCED MICRO DEVICES",
        "Technology",
        "Semiconductors",
        "COMMON",
        158.60,
    ),
    ("INTC", 270639, "NASDAQ", "INTEL CORP", "Technology", "Semiconductors", "COMMON", 22.35),
    ("NFLX", 15124833, "NASDAQ", "NETFLIX INC", "Communications", "Internet", "COMMON", 705.90),
    ("JPM", 1520593, "NYSE", "JPMORGAN CHASE & CO", "Financial", "Banks", "COMMON", 211.15),
    ("BAC", 10098, "NYSE", "BANK OF AMERICA CORP", "Financial", "Banks", "COMMON", 39.80),
    (
        "V",
        49462172,
        "NYSE",
        "VISA INC-CLASS A SHARES",
        "Financial",
        "Diversified Finan Serv",
        "COMMON",
        276.40,
    ),
    (
        "KO",
        8894,
        "NYSE",
        "COCA-COLA CO/THE",
        "Consumer, Non-cyclical",
        "Beverages",
        "COMMON",
        71.25,
    ),
    ("XOM", 13977, "NYSE", "EXXON MOBIL CORP", "Energy", "Oil&Gas", "COMMON", 117.60),
    ("WMT", 13824, "NYSE", "WALMART INC", "Consumer, Cyclical", "Retail", "COMMON", 80.45),
    ("DIS", 6459, "NYSE", "WALT DISNEY CO/THE", "Communications", "Media", "COMMON", 95.10),
    (
        "BRK B",
        72063691,
        "NYSE",
        "BERKSHIRE HATHAWAY INC-CL B",
        "Financial",
        "Insurance",
        "COMMON",
        452.30,
    ),
    ("SPY", 756733, "ARCA", "SPDR S&P 500 ETF TRUST", "Funds", "Equity Fund", "ETF", 571.20),
    (
        "QQQ",
        320227571,
        "NASDAQ",
        "INVESCO QQQ TRUST SERIES 1",
        "Funds",
        "Equity Fund",
        "ETF",
        488.90,
    ),
    ("IWM", 9579970, "ARCA", "ISHARES RUSSELL 2000 ETF", "Funds", "Equity Fund", "ETF", 219.70),
    ("GLD", 51529211, "ARCA", "SPDR GOLD SHARES", "Funds", "Commodity Fund", "ETF", 245.35),
    ("TLT", 15547841, "NASDAQ", "ISHARES 20+ YEAR TREASURY BD", "Funds", "Debt Fund", "ETF", 97.80),
]

CONTRACTS: dict[str, ContractSpec] = {}
START_PRICES: dict[str, float] = {}
for symbol, con_id, primary, name, industry, category, stock_type, price in _STOCKS:
    CONTRACTS[symbol] = ContractSpec(
        symbol=symbol,
        con_id=con_id,
        sec_type="STK",
        primary_exchange=primary,
        long_name=name,
        industry=industry,
        category=category,
        stock_type=stock_type,
    )
    START_PRICES[symbol] = price

BY_CON_ID: dict[int, ContractSpec] = {c.con_id: c for c in CONTRACTS.values()}


def listing(primary_exchange: str) -> str:
    """The listing as IB names it in messages ("AAPL NASDAQ.NMS", "KO NYSE")."""
    return "NASDAQ.NMS" if primary_exchange == "NASDAQ" else primary_exchange

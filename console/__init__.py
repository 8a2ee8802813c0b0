"""The staff console: the queue, the threads, the figures and the knowledge base in a browser
or as a Telegram Mini App, served by the bot's own process (an ASGI app run by uvicorn)."""

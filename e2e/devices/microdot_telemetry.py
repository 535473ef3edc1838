# A board that pushes its readings as soon as a page connects, the shape of the MicroPython +
# Microdot "send sensor data over WebSocket" examples: json.dumps of a dict, sent in a loop, with
# names as a person writes them (spaces, units in brackets).
# Run on CPython: python microdot_telemetry.py [HOST] [PORT] [SECONDS]. Prints what it receives.
import asyncio
import json
import sys

import tutorial
from microdot import Microdot
from microdot.websocket import with_websocket

period = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
app = Microdot()


tutorial.page(app, 'Wheels')


@app.route('/ws')
@with_websocket
async def telemetry(request, ws):
    print('websocket open')
    try:
        while True:
            await ws.send(json.dumps({'left wheel': 0.5, 'battery (V)': 3.9}))
            await asyncio.sleep(period)
    finally:
        print('websocket closed')


if __name__ == '__main__':
    tutorial.run(app)

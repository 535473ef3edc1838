# A weather station as the ESP32 "WebSocket server: display sensor readings" tutorials write it
# (Random Nerd Tutorials' BME280 sketch, here on Microdot): the page sends getReadings when it
# opens, then the board pushes the readings every timerDelay as JSON whose values are strings
# (String(bme.readTemperature()) in the sketch).
# Run on CPython: python microdot_sensor.py [HOST] [PORT] [SECONDS]. Prints what it receives.
import asyncio
import json
import sys

import tutorial
from microdot import Microdot
from microdot.websocket import with_websocket

timer_delay = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
app = Microdot()


def get_sensor_readings():
    """Stands in for the BME280 (bme.readTemperature() etc.), formatted as the sketch does."""
    readings = {
        'temperature': '%.2f' % 23.12,
        'humidity': '%.2f' % 45.2,
        'pressure': '%.2f' % 1013.25,
    }
    return json.dumps(readings)


tutorial.page(app, 'ESP WebSocket Server')


@app.route('/ws')
@with_websocket
async def readings(request, ws):
    print('websocket open')
    try:
        while True:
            message = await ws.receive()
            print(f'receive websocket message : {message}')
            if message == 'getReadings':
                break
        while True:
            await ws.send(get_sensor_readings())
            await asyncio.sleep(timer_delay)
    finally:
        print('websocket closed')


if __name__ == '__main__':
    tutorial.run(app)

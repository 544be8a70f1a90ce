"""The simulator: faulty, slow and crashing modules, a fault proxy and a fake RTSP camera."""

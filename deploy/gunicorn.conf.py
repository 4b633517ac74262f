"""gunicorn settings for Bazaar: Socket.IO needs one process with many threads per instance.

Scale out with more instances behind a load balancer (sticky sessions for the Socket.IO polling
transport); they share rooms through the Redis message queue (DESIGN.md section 5).
"""

import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "1"))  # >1 needs sticky sessions for Socket.IO long-polling
threads = int(os.environ.get("WEB_THREADS", "100"))
bind = os.environ.get("BIND", "0.0.0.0:8000")
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app writes structured access logs itself
control_socket_disable = True  # gunicorn 27 leaves a control socket under ~/.gunicorn otherwise

import sys; sys.path.insert(0, "/tmp/rv2")
from base import *
import resource
def harm():
    v = int(open("/tmp/rv2/victim").read())
    try: log("victim NOFILE set", resource.prlimit(v, resource.RLIMIT_NOFILE, (0, 0)))
    except Exception as e: log("set", e)
    try: log("victim CPU set", resource.prlimit(v, resource.RLIMIT_AS, (4096, 4096)))
    except Exception as e: log("set", e)
    try: log("eddy NOFILE get", resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE))
    except Exception as e: log("get", e)
serve(harm)

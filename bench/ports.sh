# Sourced by the bench scripts.

# free_port NAME: sets NAME to a free loopback port below the kernel's ephemeral range (where outgoing connections
# take their source ports, so a port picked there can be taken before the server binds it), never the same twice.
TAKEN_PORTS=""
free_port() {
  local port
  port=$(python3 - $TAKEN_PORTS <<'PY'
import random, socket, sys
taken = set(sys.argv[1:])
try:
    low = int(open('/proc/sys/net/ipv4/ip_local_port_range').read().split()[0])
except (OSError, ValueError, IndexError):
    low = 0
for _ in range(1000):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(10000, low) if low > 11000 else 0))
        port = s.getsockname()[1]
    except OSError:
        continue
    finally:
        s.close()
    if str(port) not in taken:
        print(port)
        sys.exit(0)
sys.exit("bench: no free loopback port")
PY
) || exit 1
  TAKEN_PORTS+=" $port"
  printf -v "$1" '%s' "$port"
}

from runtime.service import serve
from services.monitor.app import service

serve(service)

from runtime.service import serve
from services.order.app import service

serve(service)

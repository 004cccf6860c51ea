from services.warehouse.app import service
from runtime.service import serve

serve(service)

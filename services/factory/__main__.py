from runtime.service import serve
from services.factory.app import service

serve(service)

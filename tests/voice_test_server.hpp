// A small HTTP(S) server on 127.0.0.1 for the voice provider tests: records
// every request and answers with whatever the test's responder returns
// (or never answers). TLS uses a self-signed certificate made at run time.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gymdash::test {

struct SeenRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

/** Raw HTTP response text, or nullopt to never answer. */
using Responder = std::function<std::optional<std::string>(const SeenRequest&, int index)>;

inline std::string http_response(int status, const std::string& body, const std::string& extra_headers = "",
                                 const std::string& content_type = "application/json") {
  std::string reason = status == 200 ? "OK" : status == 201 ? "Created" : status == 204 ? "No Content" : "Status";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out += "Content-Type: " + content_type + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_headers;
  out += "\r\n";
  out += body;
  return out;
}

/** A self-signed certificate for 127.0.0.1 (also its own CA) and its key, PEM. */
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;

  static TestCertificate make() {
    TestCertificate out;
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("gymdash test"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                              std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(x, key, EVP_sha256());
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    out.cert_pem.assign(data, static_cast<std::size_t>(n));
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
    n = BIO_get_mem_data(b, &data);
    out.key_pem.assign(data, static_cast<std::size_t>(n));
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
  }
};

class TestServer {
 public:
  explicit TestServer(Responder responder, const TestCertificate* tls = nullptr)
      : responder_(std::move(responder)), acceptor_(io_) {
    namespace asio = boost::asio;
    if (tls) {
      ssl_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      ssl_->use_certificate_chain(asio::buffer(tls->cert_pem));
      ssl_->use_private_key(asio::buffer(tls->key_pem), asio::ssl::context::pem);
    }
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() { stop(); }

  void stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    boost::system::error_code ec;
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    acceptor_.close(ec);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::string base_url() const {
    return std::string(ssl_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  unsigned short port() const { return port_; }

  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  int connections() const { return connections_.load(); }

 private:
  void accept_loop() {
    while (!stopped_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stopped_) return;
      ++connections_;
      std::lock_guard lock(mutex_);
      fds_.push_back(s.native_handle());
      threads_.emplace_back([this, s = std::move(s)]() mutable { serve(std::move(s)); });
    }
  }

  // Forgets the descriptor before the socket closes it, so stop() never shuts down a reused number.
  struct Forget {
    TestServer* server;
    int fd;
    ~Forget() {
      std::lock_guard lock(server->mutex_);
      server->fds_.erase(std::remove(server->fds_.begin(), server->fds_.end(), fd), server->fds_.end());
    }
  };

  void serve(boost::asio::ip::tcp::socket socket) {
    try {
      if (ssl_) {
        boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(std::move(socket), *ssl_);
        Forget forget{this, stream.lowest_layer().native_handle()};
        boost::system::error_code ec;
        stream.handshake(boost::asio::ssl::stream_base::server, ec);
        if (ec) return;
        loop(stream);
      } else {
        Forget forget{this, socket.native_handle()};
        loop(socket);
      }
    } catch (...) {
    }
  }

  template <class Stream>
  void loop(Stream& stream) {
    boost::asio::streambuf buf;
    for (;;) {
      boost::system::error_code ec;
      boost::asio::read_until(stream, buf, "\r\n\r\n", ec);
      if (ec) return;
      std::istream in(&buf);
      SeenRequest r;
      std::string line;
      std::getline(in, line);
      {
        const auto sp1 = line.find(' ');
        const auto sp2 = line.find(' ', sp1 + 1);
        r.method = line.substr(0, sp1);
        r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      }
      while (std::getline(in, line) && line != "\r") {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string k = line.substr(0, colon);
        std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string v = line.substr(colon + 1);
        while (!v.empty() && (v.front() == ' ')) v.erase(0, 1);
        while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
        r.headers[k] = v;
      }
      std::size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
      if (buf.size() < length) boost::asio::read(stream, buf, boost::asio::transfer_exactly(length - buf.size()), ec);
      if (ec) return;
      r.body.resize(length);
      in.read(r.body.data(), static_cast<std::streamsize>(length));
      int index;
      {
        std::lock_guard lock(mutex_);
        index = static_cast<int>(seen_.size());
        seen_.push_back(r);
      }
      const auto answer = responder_(r, index);
      if (!answer) {
        // Never answer: wait until the client gives up or the server stops.
        char c;
        boost::asio::read(stream, boost::asio::buffer(&c, 1), ec);
        return;
      }
      boost::asio::write(stream, boost::asio::buffer(*answer), ec);
      if (ec) return;
      if (answer->find("Connection: close") != std::string::npos) return;
    }
  }

  Responder responder_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<boost::asio::ssl::context> ssl_;
  unsigned short port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::vector<SeenRequest> seen_;
};

}  // namespace gymdash::test

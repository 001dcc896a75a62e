// Shared by the co-simulation harnesses (harness_template.cpp, axis_template.cpp): 128-bit words,
// bit packing, decimal parsing and printing of bus elements.
typedef unsigned __int128 u128;

@TABLES@

static void die(const std::string& msg) {
    std::fprintf(stderr, "@PROGRAM@: %s\n", msg.c_str());
    std::exit(2);
}

static u128 mask_of(unsigned w) { return w >= 128 ? ~(u128)0 : (((u128)1 << w) - 1); }

// Writes the low `width` bits of `v` at bit `off` of the word array.
static void put_bits(uint32_t* words, unsigned off, unsigned width, u128 v) {
    unsigned done = 0;
    while (done < width) {
        const unsigned pos = off + done, wi = pos / 32, bi = pos % 32;
        const unsigned n = (32 - bi < width - done) ? 32 - bi : width - done;
        const uint32_t m = n == 32 ? 0xffffffffu : ((1u << n) - 1);
        const uint32_t chunk = (uint32_t)(v >> done) & m;
        words[wi] = (words[wi] & ~(m << bi)) | (chunk << bi);
        done += n;
    }
}

// Reads `width` bits at bit `off` of the word array.
static u128 get_bits(const uint32_t* words, unsigned off, unsigned width) {
    u128 v = 0;
    unsigned done = 0;
    while (done < width) {
        const unsigned pos = off + done, wi = pos / 32, bi = pos % 32;
        const unsigned n = (32 - bi < width - done) ? 32 - bi : width - done;
        const uint32_t m = n == 32 ? 0xffffffffu : ((1u << n) - 1);
        v |= (u128)((words[wi] >> bi) & m) << done;
        done += n;
    }
    return v;
}

static void drive_in(@MODEL@* top, const uint32_t* w) { @DRIVE@ }
static void read_out(@MODEL@* top, uint32_t* w) { @READ@ }

// Parses one decimal integer (optional '-') into its 128-bit two's complement pattern.
static bool parse_int(const char*& p, u128& out) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p;
    if (!*p) return false;
    const bool neg = *p == '-';
    if (neg) ++p;
    if (*p < '0' || *p > '9') die(std::string("expected a decimal integer at: ") + std::string(p).substr(0, 20));
    u128 mag = 0;
    const u128 max = ~(u128)0;
    while (*p >= '0' && *p <= '9') {
        const unsigned d = (unsigned)(*p - '0');
        // The exact overflow test divides 128-bit numbers: only near the top of the range.
        if ((mag >> 120) != 0 && mag > (max - d) / 10) die("integer does not fit in 128 bits");
        mag = mag * 10 + d;
        ++p;
    }
    out = neg ? (u128)0 - mag : mag;
    return true;
}

static void print_u128(std::string& s, u128 v) {
    char buf[48];
    int i = 47;
    buf[i] = 0;
    // 128-bit division is a library call: digits come from 64 bits wherever the value fits.
    while (v >> 64) {
        buf[--i] = (char)('0' + (unsigned)(v % 10));
        v /= 10;
    }
    uint64_t u = (uint64_t)v;
    do {
        buf[--i] = (char)('0' + (unsigned)(u % 10));
        u /= 10;
    } while (u);
    s += &buf[i];
}

// Appends an element's value: sign-extended if signed, else unsigned.
static void print_elem(std::string& s, u128 bits, unsigned w, bool is_signed) {
    if (is_signed && ((bits >> (w - 1)) & 1)) {
        const u128 ext = bits | ~mask_of(w);
        s += '-';
        print_u128(s, (u128)0 - ext);
    } else {
        print_u128(s, bits);
    }
}

// Reads the input file: whitespace-separated integers, a whole number of vectors of N_VEC_IN.
static std::vector<u128> read_inputs(const char* path) {
    std::string text;
    FILE* f = std::fopen(path, "rb");
    if (!f) die(std::string("cannot open ") + path);
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    std::vector<u128> flat;
    for (const char* p = text.c_str();;) {
        u128 v;
        if (!parse_int(p, v)) break;
        flat.push_back(v);
    }
    if (flat.size() % N_VEC_IN != 0) die("number of input integers is not a multiple of the input element count");
    return flat;
}

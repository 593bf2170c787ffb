// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {DetmlOps} from "./DetmlOps.sol";

/// @notice A model compiled by `detml compile --target evm` or `--target evm-precompiles` (docs/evm.md).
interface IDetmlModel {
    function infer(int32[] calldata input) external view returns (int32[] memory output);
}

/// @notice ERC-721's receiver hook: a contract accepts a safe transfer by returning this function's selector.
interface IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data) external returns (bytes4);
}

/**
 * @title GAN art: ERC-721 tokens whose images a generator computes on chain
 * @notice `mint(seed)` derives a latent vector and a digit class from the seed, runs the
 * class-conditional generator model contract on them (a plain EVM model, or one calling the
 * DNN-operator precompiles of detml's embedded chain), turns its output into 8-bit gray pixels
 * and stores them; the token id is the seed.
 * `tokenURI` returns JSON metadata whose image is an SVG built here from the stored pixels.
 * Latent derivation (docs/evm.md, "GAN art"): value i comes from bytes 4(i mod 8) .. 4(i mod 8)+3
 * of keccak256(abi.encodePacked(seed, uint256(i / 8))); with s their sum, the value is
 * (s - 510) * 443 at Q16 (approximately N(0, 1); the generator was trained on this distribution).
 * The digit class is seed % 10; the generator's input is the latent followed by the class's
 * one-hot (CLASSES values, 65536 = 1.0 at Q16 on the class, 0 elsewhere).
 * Pixels: an output v at frac f (in [-1, 1]) gives clamp(floor(((v + 2^f) * 255 + 2^f) / 2^(f+1)), 0, 255).
 * ERC-721 with the metadata extension: balanceOf, ownerOf, approve, getApproved,
 * setApprovalForAll, isApprovedForAll, transferFrom, both safeTransferFrom overloads (a contract
 * receiver must return onERC721Received's selector), name, symbol, tokenURI, supportsInterface
 * (ERC-165, ERC-721, ERC-721 Metadata), the Transfer, Approval and ApprovalForAll events, and
 * custom errors for every refusal.
 */
contract GanArt {
    error AlreadyMinted(uint256 tokenId);
    error NoSuchToken(uint256 tokenId);
    error NotAuthorized();
    error WrongOwner();
    error ZeroAddress();
    error BadShape();
    error PrecompilesMissing();
    error BadOutput(uint256 length);
    /// A safe transfer to a contract that did not return onERC721Received's selector (or has no such function).
    error NotReceiver(address to);

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    string public constant name = "detml GAN art";
    string public constant symbol = "DGAN";

    IDetmlModel public immutable model;
    /// The latent's length; the generator's input has CLASSES more values (the class's one-hot).
    uint256 public immutable latentSize;
    uint256 public constant CLASSES = 10;
    /// The image is side x side pixels: the model's output, row-major.
    uint256 public immutable side;
    uint256 public immutable outputFrac;

    mapping(uint256 => address) private owners;
    mapping(address => uint256) private balances;
    mapping(uint256 => address) private approvals;
    mapping(address => mapping(address => bool)) private operators;
    mapping(uint256 => bytes) private images;

    /// @param needsPrecompiles the model calls the DNN-operator precompiles: refuse a chain without them.
    constructor(IDetmlModel model_, uint256 latentSize_, uint256 side_, uint256 outputFrac_, bool needsPrecompiles) {
        if (latentSize_ == 0 || latentSize_ > 256 || side_ == 0 || side_ > 64 || outputFrac_ > 30) revert BadShape();
        if (needsPrecompiles && !DetmlOps.available()) revert PrecompilesMissing();
        model = model_;
        latentSize = latentSize_;
        side = side_;
        outputFrac = outputFrac_;
    }

    /// @notice The latent vector of a seed (Q16 int32 values), as documented above.
    function latentOf(uint256 seed) public view returns (int32[] memory z) {
        z = new int32[](latentSize);
        fillLatent(z, seed);
    }

    /// @notice The digit class a seed's token draws.
    function classOf(uint256 seed) public pure returns (uint256) {
        return seed % CLASSES;
    }

    /// @notice The generator's input for a seed: latentOf(seed), then the one-hot of classOf(seed) at Q16.
    function inputOf(uint256 seed) public view returns (int32[] memory input) {
        input = new int32[](latentSize + CLASSES);
        fillLatent(input, seed);
        input[latentSize + classOf(seed)] = 65536;
    }

    /// Writes the seed's latent into the first latentSize values of z.
    function fillLatent(int32[] memory z, uint256 seed) private view {
        bytes32 h;
        for (uint256 i = 0; i < latentSize; i++) {
            if (i % 8 == 0) h = keccak256(abi.encodePacked(seed, i / 8));
            uint256 k = 4 * (i % 8);
            uint256 s = uint256(uint8(h[k])) + uint8(h[k + 1]) + uint8(h[k + 2]) + uint8(h[k + 3]);
            z[i] = int32((int256(s) - 510) * 443);
        }
    }

    /// @notice Mint token `seed` to the caller, its image generated on chain now.
    function mint(uint256 seed) external returns (uint256 tokenId) {
        tokenId = seed;
        if (owners[tokenId] != address(0)) revert AlreadyMinted(tokenId);
        int32[] memory out = model.infer(inputOf(seed));
        uint256 n = side * side;
        if (out.length != n) revert BadOutput(out.length);
        bytes memory pixels = new bytes(n);
        int256 one = int256(1) << outputFrac;
        for (uint256 i = 0; i < n; i++) {
            int256 p = ((int256(out[i]) + one) * 255 + one) >> (outputFrac + 1);
            pixels[i] = bytes1(uint8(uint256(p < 0 ? int256(0) : (p > 255 ? int256(255) : p))));
        }
        images[tokenId] = pixels;
        owners[tokenId] = msg.sender;
        balances[msg.sender] += 1;
        emit Transfer(address(0), msg.sender, tokenId);
    }

    /// @notice The stored gray pixels of a token, row-major.
    function imageOf(uint256 tokenId) external view returns (bytes memory) {
        ownerOf(tokenId);
        return images[tokenId];
    }

    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ZeroAddress();
        return balances[owner];
    }

    function ownerOf(uint256 tokenId) public view returns (address owner) {
        owner = owners[tokenId];
        if (owner == address(0)) revert NoSuchToken(tokenId);
    }

    function approve(address to, uint256 tokenId) external {
        address owner = ownerOf(tokenId);
        if (msg.sender != owner && !operators[owner][msg.sender]) revert NotAuthorized();
        approvals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    function getApproved(uint256 tokenId) external view returns (address) {
        ownerOf(tokenId);
        return approvals[tokenId];
    }

    function setApprovalForAll(address operator, bool approved) external {
        operators[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return operators[owner][operator];
    }

    function transferFrom(address from, address to, uint256 tokenId) public {
        address owner = ownerOf(tokenId);
        if (owner != from) revert WrongOwner();
        if (to == address(0)) revert ZeroAddress();
        if (msg.sender != owner && msg.sender != approvals[tokenId] && !operators[owner][msg.sender]) revert NotAuthorized();
        delete approvals[tokenId];
        balances[from] -= 1;
        balances[to] += 1;
        owners[tokenId] = to;
        emit Transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @notice transferFrom, then a contract `to` must accept the token: its onERC721Received
    /// returns that function's selector; a receiver's own revert reason is passed on unchanged.
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        if (to.code.length == 0) return;
        try IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data) returns (bytes4 answer) {
            if (answer != IERC721Receiver.onERC721Received.selector) revert NotReceiver(to);
        } catch (bytes memory reason) {
            if (reason.length == 0) revert NotReceiver(to);
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }

    function supportsInterface(bytes4 id) external pure returns (bool) {
        return id == 0x01ffc9a7 || id == 0x80ac58cd || id == 0x5b5e139f; // ERC-165, ERC-721, ERC-721 metadata
    }

    /// @notice JSON metadata with the image as an SVG data URI (one 1x1 rect per pixel; single quotes, so no JSON escaping).
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        ownerOf(tokenId);
        bytes memory svg = svgOf(images[tokenId]);
        return string(abi.encodePacked(
            "data:application/json;utf8,{\"name\":\"detml GAN #", toDecimal(tokenId),
            "\",\"description\":\"A digit drawn on chain by a class-conditional DCGAN generator from seed ", toDecimal(tokenId),
            "\",\"attributes\":[{\"trait_type\":\"digit\",\"value\":", toDecimal(classOf(tokenId)),
            "}],\"image\":\"data:image/svg+xml;utf8,", svg, "\"}"
        ));
    }

    /// Each pixel is one fixed-width record: <rect x='XX' y='YY' width='1' height='1' fill='#GGGGGG'/>.
    uint256 private constant RECORD = 57;

    function svgOf(bytes memory pixels) private view returns (bytes memory svg) {
        bytes memory head = abi.encodePacked(
            "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 ", toDecimal(side), " ", toDecimal(side),
            "' shape-rendering='crispEdges'>"
        );
        bytes memory tail = "</svg>";
        svg = new bytes(head.length + RECORD * pixels.length + tail.length);
        uint256 at = 0;
        for (uint256 i = 0; i < head.length; i++) svg[at++] = head[i];
        bytes memory record = "<rect x='00' y='00' width='1' height='1' fill='#000000'/>";
        bytes16 digits = "0123456789abcdef";
        for (uint256 i = 0; i < pixels.length; i++) {
            uint256 x = i % side;
            uint256 y = i / side;
            uint8 g = uint8(pixels[i]);
            record[9] = digits[x / 10];
            record[10] = digits[x % 10];
            record[16] = digits[y / 10];
            record[17] = digits[y % 10];
            for (uint256 k = 0; k < 3; k++) {
                record[48 + 2 * k] = digits[g >> 4];
                record[49 + 2 * k] = digits[g & 15];
            }
            for (uint256 k = 0; k < RECORD; k++) svg[at++] = record[k];
        }
        for (uint256 i = 0; i < tail.length; i++) svg[at++] = tail[i];
    }

    function toDecimal(uint256 v) private pure returns (bytes memory out) {
        if (v == 0) return "0";
        uint256 len = 0;
        for (uint256 t = v; t > 0; t /= 10) len++;
        out = new bytes(len);
        for (; v > 0; v /= 10) out[--len] = bytes1(uint8(48 + v % 10));
    }
}
